"""Matplotlib helpers for the chapters: training curves, n-gram tables, heat maps of activations, curves
against sequence length or distance.

Every function draws on the given Axes (or a new figure) and returns the Axes, so a chapter can add to it.
Chinese labels need a font with CJK glyphs; ``use_chinese_font`` switches to one if the machine has one.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager

CJK_FONT_NAMES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
    "Noto Sans CJK JP",
)  # matplotlib < 3.11 reads only the first font of a .ttc: Noto's JP face
_CJK_FILES_ADDED = []  # not empty once the system's CJK font files were added to matplotlib's list (done once)
CJK_FILE_HINTS = ("cjk", "sourcehan", "wqy", "wenquanyi", "simhei", "msyh", "pingfang", "uming")


def use_chinese_font() -> str | None:
    """Make matplotlib draw Chinese characters with the first installed CJK font; return its name, or None
    when there is none (Chinese labels would then show as empty boxes: label with indices instead).

    Latin letters, digits and maths keep matplotlib's own DejaVu Sans; only the characters it lacks fall back to the
    CJK font, glyph by glyph, so figures look the same with or without Chinese labels.
    """
    for attempt in range(2):
        installed = {font.name for font in font_manager.fontManager.ttflist}
        for name in CJK_FONT_NAMES:
            if name in installed:
                plt.rcParams["font.family"] = ["DejaVu Sans", name]
                return name
        if attempt == 0 and not _CJK_FILES_ADDED:
            # matplotlib lists the fonts once and caches the list: a font installed later (apt-get install
            # fonts-noto-cjk after matplotlib first ran) is missing from it until it is added by hand.
            _CJK_FILES_ADDED.append(True)
            for path in font_manager.findSystemFonts():
                if any(part in Path(path).name.lower() for part in CJK_FILE_HINTS):
                    font_manager.fontManager.addfont(path)
    return None


def book_style(dpi: int = 110) -> str | None:
    """The look of every figure of the book; call it once, in a chapter's first cell.

    Figures are laid out at ``dpi`` pixels per inch but drawn in notebooks (and on the website) at twice that
    resolution and shown at the same size, so they stay sharp on high-density screens and when zoomed; the top and
    right spines go; Chinese labels use a CJK font when one is installed. Curves keep matplotlib's ten default
    colours, which the captions name (C0 blue, C1 orange, C2 green, C3 red, ...). Returns the CJK font's name, or
    None.
    """
    plt.rcParams.update(
        {"figure.dpi": dpi, "savefig.dpi": 2 * dpi, "axes.spines.top": False, "axes.spines.right": False}
    )
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # plain Python: nothing is displayed inline
        pass
    else:
        if get_ipython() is not None:
            set_matplotlib_formats("retina")  # PNG at twice the resolution, tagged with its display size
    return use_chinese_font()


def _axes(ax, figsize=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _finish(ax, xlabel, ylabel, title=None, logx=False, logy=False):
    """Axis labels, log scales, legend and title: the last lines of every curve plot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_history(history: dict, metric: str = "loss", ax=None, title: str | None = None, logy: bool = False):
    """Training and validation curves against the epoch, from ``train_torch`` / ``train_numpy``'s history.

    Parameters
    ----------
    history
        dict with "epoch" and "train_<metric>" and/or "val_<metric>" lists (or a plain "<metric>" list)
    metric
        "loss" by default; e.g. "accuracy" when the history has "val_accuracy"
    logy
        logarithmic y axis
        The best epoch (early stopping) is marked with a dotted line.
    """
    ax = _axes(ax)
    epochs = history["epoch"]
    for key, style, label in (
        (f"train_{metric}", "o-", "train"),
        (f"val_{metric}", "s-", "validation"),
        (metric, "o-", metric),
    ):
        values = history.get(key)
        if values and all(value is not None for value in values):
            ax.plot(epochs[: len(values)], values, style, label=label, markersize=3)
    if history.get("best_epoch"):
        ax.axvline(history["best_epoch"], color="grey", linestyle=":", label="best epoch")
    return _finish(ax, "epoch", metric, title, logy=logy)


def plot_histories(histories: dict, metric: str = "val_loss", ax=None, title: str | None = None, logy: bool = False):
    """One curve per run, e.g. {"RNN": history, "LSTM": history, "GRU": history}, for one history key."""
    ax = _axes(ax)
    for name, history in histories.items():
        ax.plot(history["epoch"][: len(history[metric])], history[metric], "o-", markersize=3, label=name)
    return _finish(ax, "epoch", metric.replace("_", " "), title, logy=logy)


def plot_ngram_orders(rows: list[dict], ax=None, title: str | None = None):
    """For the chapter *Sequences and language models*: held-out perplexity (left axis) and number of distinct contexts
    seen (right axis, log) against the order n, from ``course_lib.baselines.ngram_perplexities``."""
    ax = _axes(ax)
    orders = [row["n"] for row in rows]
    ax.plot(orders, [row["perplexity"] for row in rows], "o-", color="C0", label="held-out perplexity")
    if "train_perplexity" in rows[0]:
        ax.plot(
            orders, [row["train_perplexity"] for row in rows], "o--", color="C0", alpha=0.5, label="training perplexity"
        )
    ax.set_xlabel("n (order of the n-gram model)")
    ax.set_ylabel("perplexity", color="C0")
    ax.set_yscale("log")
    ax.set_xticks(orders)
    right = ax.twinx()
    right.plot(orders, [row["num_contexts"] for row in rows], "s-", color="C1", label="distinct contexts seen")
    right.set_ylabel("distinct contexts seen", color="C1")
    right.set_yscale("log")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="center right")
    if title:
        ax.set_title(title)
    return ax


def plot_heatmap(
    values,
    row_labels=None,
    column_labels=None,
    ax=None,
    title: str | None = None,
    cmap: str = "RdBu_r",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
):
    """A matrix as colours, e.g. gate activations (rows: units, columns: the characters of a sentence).

    Parameters
    ----------
    values : ndarray, shape (R, C)
        array
    row_labels, column_labels
        R and C strings (characters need ``use_chinese_font``)
    vmin, vmax
        colour range; default symmetric around 0 for the diverging colour map
    """
    values = np.asarray(values, dtype=float)
    ax = _axes(ax, figsize=(max(4, 0.35 * values.shape[1]), max(2, 0.35 * values.shape[0])))
    if vmin is None and vmax is None:
        limit = float(np.abs(values).max()) or 1.0
        vmin, vmax = (-limit, limit) if values.min() < 0 else (0.0, limit)
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), labels=row_labels)
    if column_labels is not None:
        ax.set_xticks(range(len(column_labels)), labels=column_labels)
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    if title:
        ax.set_title(title)
    return ax


def plot_curves(
    x,
    curves: dict,
    xlabel: str = "",
    ylabel: str = "",
    ax=None,
    title: str | None = None,
    logx: bool = False,
    logy: bool = False,
    baseline: float | None = None,
    baseline_label: str = "baseline",
):
    """Several named curves over the same x, e.g. gradient norm vs distance for several spectral radii, or
    mean squared error vs sequence length for RNN / LSTM / GRU, with an optional horizontal baseline."""
    ax = _axes(ax)
    for name, values in curves.items():
        ax.plot(x, values, "o-", markersize=3, label=str(name))
    if baseline is not None:
        ax.axhline(baseline, color="black", linestyle="--", label=baseline_label)
    return _finish(ax, xlabel, ylabel, title, logx=logx, logy=logy)
