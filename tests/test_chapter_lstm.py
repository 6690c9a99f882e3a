"""Chapter 5 (book/05-lstm.md): its teaching code is right.

The chapter's functions are taken from the page itself (its import cell and every function definition), so a
change on the page is tested here. Expected values come from hand calculation, from independent NumPy code written
here, or from ``torch.nn.LSTM``, never from the code under test.
"""

import ast
import math
import pathlib

import jupytext
import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace
from torch import nn

from course_lib.data.synthetic import LSTM_CELL_EXAMPLE_INPUTS, memory_cell_reference

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "05-lstm.md"
TOLERANCE = 1e-12  # float64 agreement of two exact computations of the same numbers

# The lecture's wiring, written out again here (the chapter's dict is data, not a definition the tests load).
WIRING = {"z": ([1, 0, 0], 0), "z_i": ([0, 100, 0], -10), "z_f": ([0, 100, 0], 10), "z_o": ([0, 0, 100], -10)}


def s(v):
    return 1.0 / (1.0 + math.exp(-v))


def _is_constant(node):
    """An assignment to UPPER_CASE names only whose value is a literal (the page's constants, e.g. OPENING)."""
    if not isinstance(node, ast.Assign):
        return False
    names = [t for target in node.targets for t in (target.elts if isinstance(target, ast.Tuple) else [target])]
    simple = all(isinstance(n, ast.Name) and n.id.isupper() for n in names)
    literal = all(isinstance(v, ast.Constant | ast.Call) for v in getattr(node.value, "elts", [node.value]))
    return simple and literal


@pytest.fixture(scope="module")
def chapter():
    """The page's functions (book_helpers.chapter_namespace), plus its classes and literal constants."""
    threads = torch.get_num_threads()
    namespace = chapter_namespace(CHAPTER)
    torch.set_num_threads(threads)  # the page's import cell sets one thread: do not impose that on other tests
    for cell in (c for c in jupytext.read(CHAPTER).cells[1:] if c.cell_type == "code"):
        nodes = [n for n in ast.parse(cell.source).body if isinstance(n, ast.ClassDef) or _is_constant(n)]
        exec(compile(ast.Module(body=nodes, type_ignores=[]), str(CHAPTER), "exec"), namespace)
    return namespace


def test_hand_wired_cell_by_hand(chapter):
    cells, outputs = chapter["hand_wired_cell"](LSTM_CELL_EXAMPLE_INPUTS, WIRING)
    # Step by step with the gate pre-activations of each input: (3,1,0), (4,1,0), (2,0,0), (1,0,1), (3,-1,0).
    c1 = 3 * s(90)
    c2 = 4 * s(90) + c1 * s(110)
    c3 = 2 * s(-10) + c2 * s(10)
    c4 = 1 * s(-10) + c3 * s(10)
    c5 = 3 * s(-110) + c4 * s(-90)
    np.testing.assert_allclose(cells, [c1, c2, c3, c4, c5], rtol=TOLERANCE, atol=1e-300)
    np.testing.assert_allclose(
        outputs, [c1 * s(-10), c2 * s(-10), c3 * s(-10), c4 * s(90), c5 * s(-10)], rtol=TOLERANCE, atol=1e-300
    )
    assert f"{outputs[3]:.4f}" == "6.9995"
    np.testing.assert_allclose(outputs, memory_cell_reference(LSTM_CELL_EXAMPLE_INPUTS), atol=1e-3)


def test_hand_wired_cell_other_wiring_and_start(chapter):
    counter = dict(WIRING, z=([0, 0, 0], 1))  # always writes 1: counts the steps with x2 = 1
    inputs = [[5, 1, 1], [6, 1, 1], [7, 0, 1], [8, -1, 1]]
    _, outputs = chapter["hand_wired_cell"](inputs, counter, c=10.0)
    np.testing.assert_allclose(outputs, [11, 12, 12, 0], atol=2e-3)


def numpy_peephole_step(x, h_prev, c_prev, Wx, Wh, b, p_i, p_f, p_o):
    H = h_prev.shape[1]
    a = x @ Wx + h_prev @ Wh + b
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i = sig(a[:, :H] + p_i * c_prev)
    f = sig(a[:, H : 2 * H] + p_f * c_prev)
    g = np.tanh(a[:, 2 * H : 3 * H])
    c = f * c_prev + i * g
    o = sig(a[:, 3 * H :] + p_o * c)
    return o * np.tanh(c), c


@pytest.mark.parametrize("seed", [0, 1])
def test_peephole_cell_matches_independent_numpy(chapter, seed):
    N, D, H = 3, 4, 5
    torch.manual_seed(seed)
    cell = chapter["PeepholeLSTMCell"](D, H, dtype=torch.float64)
    rng = np.random.default_rng(seed)
    x, h0, c0 = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    with torch.no_grad():
        h, c = cell(torch.tensor(x), (torch.tensor(h0), torch.tensor(c0)))
    weights = [getattr(cell, name).detach().numpy() for name in ("Wx", "Wh", "b", "p_i", "p_f", "p_o")]
    assert all(np.abs(p).max() > 0 for p in weights[3:]), "peephole weights should be initialised, not zero"
    h_ref, c_ref = numpy_peephole_step(x, h0, c0, *weights)
    np.testing.assert_allclose(h.numpy(), h_ref, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=0, atol=TOLERANCE)


def test_peephole_lstm_without_peepholes_is_nn_lstm(chapter):
    D, H = 3, 4
    torch.manual_seed(0)
    layer = chapter["PeepholeLSTM"](D, H, dtype=torch.float64)
    cell = layer.cell()
    reference = nn.LSTM(D, H, batch_first=True).double()
    with torch.no_grad():
        for p in (cell.p_i, cell.p_f, cell.p_o):
            p.zero_()
        reference.weight_ih_l0.copy_(cell.Wx.T)
        reference.weight_hh_l0.copy_(cell.Wh.T)
        reference.bias_ih_l0.copy_(cell.b)
        reference.bias_hh_l0.zero_()
        x = torch.randn(2, 6, D, dtype=torch.float64)
        out, (h_n, c_n) = layer(x)
        out_ref, (h_ref, c_ref) = reference(x)
    assert (out - out_ref).abs().max() < TOLERANCE
    assert (c_n - c_ref).abs().max() < TOLERANCE


@pytest.mark.parametrize("D,H", [(64, 128), (3, 1), (10, 7)])
def test_count_parameters(chapter, D, H):
    assert chapter["count_parameters"](nn.LSTM(D, H)) == 4 * (D * H + H * H + 2 * H)
    assert chapter["count_parameters"](nn.RNN(D, H)) == D * H + H * H + 2 * H


def test_gradient_by_distance_decays_with_the_forget_gate(chapter):
    closed = chapter["gradient_by_distance"](0.0, T=30, H=8, D=3)
    open_ = chapter["gradient_by_distance"](3.0, T=30, H=8, D=3)
    assert closed.shape == (30,) and np.all(closed > 0)
    # 25 steps back, a forget gate near sigmoid(0) = 0.5 has shrunk the signal far more than one near 0.95.
    assert closed[25] / closed[0] < 1e-4
    assert open_[25] / open_[0] > 100 * closed[25] / closed[0]


def test_recall_task_and_batches(chapter):
    X, y = chapter["recall_task"](5, 7, seed=3)
    assert X.shape == (5, 7, 2) and y.shape == (5,)
    np.testing.assert_array_equal(y, X[:, 0, 0])
    np.testing.assert_array_equal(X[:, :, 1], np.eye(7)[[0] * 5])
    batches = chapter["recall_batches"](3, 7, batch_size=4, seed=3)
    assert len(batches) == 3 and batches[0][0].shape == (4, 7, 2)


def test_train_regressor_returns_a_held_out_error(chapter):
    batches = chapter["recall_batches"](2, 5, batch_size=8, seed=0)
    X_val, y_val = chapter["recall_task"](20, 5, seed=1)
    mse = chapter["train_regressor"](nn.LSTM(2, 3, batch_first=True), batches, X_val, y_val)
    assert isinstance(mse, float) and 0 < mse < 10


def test_text_features(chapter):
    features = chapter["text_features"]("ab，“cd”1\n（２）")
    np.testing.assert_array_equal(features["position in phrase"], [1, 2, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3])
    np.testing.assert_array_equal(features["inside quotes or brackets"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(features["digit"], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0])


def test_correlations(chapter):
    v = np.array([0.0, 1.0, 2.0, 5.0])
    states = np.stack([2 * v + 1, -v, np.array([1.0, -1.0, -1.0, 1.0])], axis=1)
    r = chapter["correlations"](states, {"v": v})["v"]
    np.testing.assert_allclose(r, [1.0, -1.0, np.corrcoef(states[:, 2], v)[0, 1]], atol=1e-9)


def test_cell_states_match_nn_lstm(chapter):
    from course_lib.nn_torch.models import CharLM

    torch.manual_seed(0)
    model = CharLM(10, embed_size=4, hidden_size=6, cell="lstm")
    indices = np.array([1, 5, 2, 9, 0, 3])
    cells = chapter["cell_states"](model, indices)
    with torch.no_grad():
        _, (_, c_n) = model.recurrent(model.embedding(torch.as_tensor(indices)[None]))
    assert cells.shape == (6, 6)
    np.testing.assert_allclose(cells[-1], c_n[0, 0].numpy(), atol=1e-6)


def test_coloured_text_escapes_and_colours(chapter):
    text = chapter["coloured_text"]("<a", [1.0, -1.0])
    assert "&lt;" in text and "<a" not in text
    assert "rgb(255,0,0)" in text and "rgb(0,0,255)" in text


def test_pick_sentence(chapter):
    sentences = ["短", "没有数字的句子（括号）" * 5, "有“引号”和１２个数字" * 5]
    assert chapter["pick_sentence"](sentences) == sentences[2]
