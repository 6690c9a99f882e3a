"""Schematic drawings of recurrent networks for the book, made with matplotlib (no image files to keep in sync).

Used by the chapter *The recurrent neural network*: ``unrolled_rnn`` draws a recurrent layer folded and unrolled over
time, ``usage_patterns`` the three ways of using one (sequence -> class, synchronous sequence -> sequence,
encoder-decoder), ``elman_jordan`` where the two classic networks take their memory from.
"""

import matplotlib.pyplot as plt

# Colours by role, shared by every drawing so that a reader learns them once.
COLOURS = {"input": "#dbe9f6", "hidden": "#fde2c4", "output": "#d7f0d2", "memory": "#e8e0f4"}
BOX_W, BOX_H = 0.8, 0.55


def _box(ax, x, y, text, role):
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=11,
        bbox={"boxstyle": "round,pad=0.35", "facecolor": COLOURS[role], "edgecolor": "#444444"},
    )


def _arrow(ax, start, end, text=None, rad=0.0, colour="#333333"):
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={
            "arrowstyle": "->",
            "lw": 1.4,
            "color": colour,
            "connectionstyle": f"arc3,rad={rad}",
            "shrinkA": 14,
            "shrinkB": 14,
        },
    )
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        ax.text(mx, my + 0.12, text, ha="center", va="bottom", fontsize=9, color=colour)


def _clean(ax, xlim, ylim, title=None):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=11)


def unrolled_rnn(T=4):
    """The recurrent layer folded (left) and unrolled over ``T`` steps (right). Returns the figure."""
    fig, (ax_fold, ax_unroll) = plt.subplots(1, 2, figsize=(10, 3.4), gridspec_kw={"width_ratios": [1, 3.2]})
    # folded: one cell with a loop on itself
    _box(ax_fold, 0, 0, "$x_t$", "input")
    _box(ax_fold, 0, 1.3, "$h_t$", "hidden")
    _box(ax_fold, 0, 2.6, "$\\hat y_t$", "output")
    _arrow(ax_fold, (0, 0), (0, 1.3), None)
    _arrow(ax_fold, (0, 1.3), (0, 2.6), None)
    # the recurrent connection: out of h_t on the right, round, and back in (drawn as a loop)
    ax_fold.annotate(
        "",
        xy=(0.32, 1.42),
        xytext=(0.32, 1.18),
        arrowprops={
            "arrowstyle": "->",
            "lw": 1.4,
            "color": "#7a4fb5",
            "connectionstyle": "arc,angleA=0,angleB=0,armA=28,armB=28,rad=8",
            "shrinkA": 0,
            "shrinkB": 0,
        },
    )
    ax_fold.text(0.95, 1.3, "$W_h$", fontsize=10, color="#7a4fb5", va="center")
    ax_fold.text(0.12, 0.62, "$W_x$", fontsize=9)
    _clean(ax_fold, (-1, 1.4), (-0.6, 3.2), "folded")
    # unrolled: one copy per step, the same weights everywhere
    xs = [1.6 * t for t in range(T)]
    _box(ax_unroll, -1.4, 1.3, "$h_0$", "memory")
    for t, x in enumerate(xs, start=1):
        _box(ax_unroll, x, 0, f"$x_{t}$", "input")
        _box(ax_unroll, x, 1.3, f"$h_{t}$", "hidden")
        _box(ax_unroll, x, 2.6, f"$\\hat y_{t}$", "output")
        _arrow(ax_unroll, (x, 0), (x, 1.3))
        _arrow(ax_unroll, (x, 1.3), (x, 2.6))
        prev = -1.4 if t == 1 else xs[t - 2]
        _arrow(ax_unroll, (prev, 1.3), (x, 1.3), "$W_h$", colour="#7a4fb5")
    _clean(ax_unroll, (-2.0, xs[-1] + 0.7), (-0.6, 3.2), "unrolled over time: the same $W_x$, $W_h$, $b$ at every step")
    fig.tight_layout()
    return fig


def usage_patterns():
    """The three usage patterns side by side. Returns the figure."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    titles = [
        "sequence → class\n(many-to-one)",
        "synchronous sequence → sequence\n(many-to-many)",
        "encoder–decoder\n(sequence → sequence of another length)",
    ]
    # many-to-one: outputs only at the end
    ax = axes[0]
    for t in range(4):
        x = 1.3 * t
        _box(ax, x, 0, f"$x_{t + 1}$", "input")
        _box(ax, x, 1.3, "$h$", "hidden")
        _arrow(ax, (x, 0), (x, 1.3))
        if t:
            _arrow(ax, (x - 1.3, 1.3), (x, 1.3))
    _box(ax, 3.9, 2.6, "class", "output")
    _arrow(ax, (3.9, 1.3), (3.9, 2.6))
    _clean(ax, (-0.7, 4.6), (-0.6, 3.2), titles[0])
    # many-to-many: an output at every step
    ax = axes[1]
    for t in range(4):
        x = 1.3 * t
        _box(ax, x, 0, f"$x_{t + 1}$", "input")
        _box(ax, x, 1.3, "$h$", "hidden")
        _box(ax, x, 2.6, f"$\\hat y_{t + 1}$", "output")
        _arrow(ax, (x, 0), (x, 1.3))
        _arrow(ax, (x, 1.3), (x, 2.6))
        if t:
            _arrow(ax, (x - 1.3, 1.3), (x, 1.3))
    _clean(ax, (-0.7, 4.6), (-0.6, 3.2), titles[1])
    # encoder-decoder: read 3, then write 2
    ax = axes[2]
    for t in range(3):
        x = 1.1 * t
        _box(ax, x, 0, f"$x_{t + 1}$", "input")
        _box(ax, x, 1.3, "enc", "hidden")
        _arrow(ax, (x, 0), (x, 1.3))
        if t:
            _arrow(ax, (x - 1.1, 1.3), (x, 1.3))
    for t in range(2):
        x = 3.6 + 1.1 * t
        _box(ax, x, 1.3, "dec", "memory")
        _box(ax, x, 2.6, f"$\\hat y_{t + 1}$", "output")
        _arrow(ax, (x, 1.3), (x, 2.6))
        _arrow(ax, ((3.6 if t else 2.2) + (1.1 * (t - 1) if t else 0), 1.3), (x, 1.3))
    _clean(ax, (-0.7, 5.3), (-0.6, 3.2), titles[2])
    fig.tight_layout()
    return fig


def elman_jordan():
    """Where the memory comes from: Elman (the hidden state) versus Jordan (the output). Returns the figure."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, kind in zip(axes, ["Elman", "Jordan"], strict=True):
        for t in range(3):
            x = 1.6 * t
            _box(ax, x, 0, f"$x_{t + 1}$", "input")
            _box(ax, x, 1.3, f"$h_{t + 1}$", "hidden")
            _box(ax, x, 2.6, f"$\\hat y_{t + 1}$", "output")
            _arrow(ax, (x, 0), (x, 1.3))
            _arrow(ax, (x, 1.3), (x, 2.6))
            if t and kind == "Elman":
                _arrow(ax, (x - 1.6, 1.3), (x, 1.3), colour="#7a4fb5")
            if t and kind == "Jordan":
                _arrow(ax, (x - 1.6, 2.6), (x, 1.3), colour="#7a4fb5")
        memory = "memory = previous hidden state" if kind == "Elman" else "memory = previous output"
        _clean(ax, (-0.7, 3.9), (-0.6, 3.2), f"{kind} network: {memory}")
    fig.tight_layout()
    return fig
