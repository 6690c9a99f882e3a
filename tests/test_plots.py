"""course_lib.plots: the helpers draw what they are given; book_style makes figures sharp and Chinese labels work."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def cjk_font_installed():
    """True when fontconfig lists a CJK font (the Debian package fonts-noto-cjk, which make installs)."""
    return bool(shutil.which("fc-list")) and "CJK" in subprocess.run(["fc-list"], capture_output=True, text=True).stdout


def test_plots_draw_what_they_are_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.plots import plot_curves, plot_heatmap, plot_histories, plot_history, plot_ngram_orders

    history = {"epoch": [1, 2, 3], "train_loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.5, 2.6], "best_epoch": 2}
    ax = plot_history(history)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["train"].get_ydata()) == [3.0, 2.0, 1.5]
    assert list(lines["validation"].get_ydata()) == [3.1, 2.5, 2.6]
    assert list(lines["best epoch"].get_xdata()) == [2, 2]
    ax = plot_histories({"RNN": history, "GRU": history}, "val_loss")
    assert [line.get_label() for line in ax.get_lines()] == ["RNN", "GRU"]
    rows = [{"n": n, "perplexity": 10.0 / n, "train_perplexity": 5.0 / n, "num_contexts": 10**n} for n in (1, 2)]
    ax = plot_ngram_orders(rows)
    assert list(ax.get_lines()[0].get_ydata()) == [10.0, 5.0]
    ax = plot_heatmap(np.array([[0.5, -1.0], [0.0, 0.2]]), ["u1", "u2"], ["a", "b"])
    assert ax.get_images()[0].get_clim() == (-1.0, 1.0)
    ax = plot_curves([10, 20], {"RNN": [0.2, 0.3]}, baseline=1 / 6)
    assert ax.get_lines()[-1].get_ydata()[0] == pytest.approx(1 / 6)
    plt.close("all")


def test_book_style_draws_figures_at_twice_their_display_size_in_a_notebook(tmp_path):
    """Issue 15, item 4: in IPython (as when the book executes) a figure's PNG has twice the pixels of its display
    size, which it carries as metadata; the CJK font is found."""
    script = tmp_path / "style.py"
    script.write_text(
        "import json, matplotlib\n"
        "matplotlib.use('module://matplotlib_inline.backend_inline')\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "import matplotlib.pyplot as plt\n"
        "from course_lib.plots import book_style\n"
        "font = book_style()\n"
        "fig, ax = plt.subplots(figsize=(4, 2))\n"
        "ax.plot([0, 1], [0, 1])\n"
        "data, metadata = shell.display_formatter.format(fig)\n"
        "import base64, io, PIL.Image\n"
        "width, height = PIL.Image.open(io.BytesIO(base64.b64decode(data['image/png']))).size\n"
        "print(json.dumps({'pixels': [width, height], 'shown': metadata['image/png'], 'font': font}))\n"
    )
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    shown = [found["shown"]["width"], found["shown"]["height"]]
    doubled = [abs(pixels - 2 * size) <= 2 for pixels, size in zip(found["pixels"], shown, strict=True)]
    assert all(doubled), (found["pixels"], shown)
    assert 400 <= found["shown"]["width"] <= 460  # about 4 inches at 110 dpi, bbox trimmed
    if cjk_font_installed():
        assert found["font"] and "CJK" in found["font"]


def test_chinese_labels_fall_back_to_the_cjk_font_glyph_by_glyph(tmp_path):
    """Latin text stays in DejaVu Sans, Chinese characters come from the CJK font: no missing-glyph warning."""
    if not cjk_font_installed():
        pytest.skip("no CJK font installed (the Debian package fonts-noto-cjk)")
    script = (
        "import matplotlib; matplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from course_lib.plots import use_chinese_font\nname = use_chinese_font()\n"
        "fig, ax = plt.subplots()\nax.set_title('老师批评了我, token 1')\nfig.savefig('out.png')\n"
        "print(plt.rcParams['font.family'])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert completed.returncode == 0, completed.stderr[-1500:]
    assert "DejaVu Sans" in completed.stdout.splitlines()[-1].split(",")[0]
