"""Chapter 6 (book/06-gru.md): its teaching code is right, and the claims its prose makes about it hold.

The chapter's functions are taken from the page itself (its import cell and every function definition). Oracles are
independent of the code under test: ``torch.nn.GRU`` and ``torch.nn.RNN``, PyTorch autograd, and GRU equations
written out again here in PyTorch.
"""

import pathlib

import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace
from torch import nn

from course_lib.nn_numpy import gru_forward, rnn_forward
from course_lib.nn_torch.models import CharLM
from course_lib.train import evaluate_torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "06-gru.md"
TOLERANCE = 1e-12  # float64 agreement of two exact computations of the same thing


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(CHAPTER)


def random_gru(seed, N=3, T=6, D=4, H=5):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(scale=0.6, size=(D, 3 * H)),
        rng.normal(scale=0.6, size=(H, 3 * H)),
        rng.normal(scale=0.3, size=3 * H),
        rng.normal(scale=0.3, size=3 * H),
    )


def torch_gru_states(x, h0, Wx, Wh, bx, bh, reset_after=True, z_weighs="previous"):
    """The GRU written out in PyTorch from the published equations (float64), all four conventions."""
    x, h, Wx, Wh, bx, bh = (torch.tensor(a) for a in (x, h0, Wx, Wh, bx, bh))
    H = h.shape[1]
    states = []
    for t in range(x.shape[1]):
        gx, gh = x[:, t] @ Wx + bx, h @ Wh + bh
        r = torch.sigmoid(gx[:, :H] + gh[:, :H])
        z = torch.sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
        if reset_after:
            n = torch.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
        else:
            n = torch.tanh(gx[:, 2 * H :] + (r * h) @ Wh[:, 2 * H :] + bh[2 * H :])
        h = z * h + (1 - z) * n if z_weighs == "previous" else (1 - z) * h + z * n
        states.append(h)
    return torch.stack(states, dim=1).numpy()


def nn_gru_states(x, h0, Wx, Wh, bx, bh):
    """PyTorch's own nn.GRU with the given weights (it stores them transposed)."""
    D, H = Wx.shape[0], Wh.shape[0]
    layer = nn.GRU(D, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        layer.weight_ih_l0.copy_(torch.tensor(Wx.T))
        layer.weight_hh_l0.copy_(torch.tensor(Wh.T))
        layer.bias_ih_l0.copy_(torch.tensor(bx))
        layer.bias_hh_l0.copy_(torch.tensor(bh))
        return layer(torch.tensor(x), torch.tensor(h0)[None])[0].numpy()


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("z_weighs", ["previous", "candidate"])
def test_teaching_gru_matches_the_equations(chapter, seed, reset_after, z_weighs):
    x, h0, Wx, Wh, bx, bh = random_gru(seed)
    ours = chapter["gru_sequence"](x, h0, Wx, Wh, bx, bh, reset_after, z_weighs)
    np.testing.assert_allclose(
        ours, torch_gru_states(x, h0, Wx, Wh, bx, bh, reset_after, z_weighs), rtol=0, atol=TOLERANCE
    )


def test_teaching_gru_is_pytorchs_gru(chapter):
    x, h0, Wx, Wh, bx, bh = random_gru(2)
    np.testing.assert_allclose(
        chapter["gru_sequence"](x, h0, Wx, Wh, bx, bh), nn_gru_states(x, h0, Wx, Wh, bx, bh), rtol=0, atol=TOLERANCE
    )


def test_the_conventions_differ_for_the_same_weights(chapter):
    x, h0, Wx, Wh, bx, bh = random_gru(3)
    sequence = chapter["gru_sequence"]
    base = sequence(x, h0, Wx, Wh, bx, bh)
    assert np.abs(base - sequence(x, h0, Wx, Wh, bx, bh, z_weighs="candidate")).max() > 0.1
    assert np.abs(base - sequence(x, h0, Wx, Wh, bx, bh, reset_after=False)).max() > 0.01


def test_flipping_the_update_gate_converts_the_z_convention(chapter):
    x, h0, Wx, Wh, bx, bh = random_gru(4)
    originals = [w.copy() for w in (Wx, Wh, bx, bh)]
    flipped = chapter["flip_update_gate"](Wx, Wh, bx, bh)
    for w, o in zip((Wx, Wh, bx, bh), originals, strict=True):
        np.testing.assert_array_equal(w, o)  # inputs untouched
    for reset_after in (True, False):
        candidate_form = torch_gru_states(x, h0, *flipped, reset_after=reset_after, z_weighs="candidate")
        previous_form = torch_gru_states(x, h0, Wx, Wh, bx, bh, reset_after=reset_after)
        np.testing.assert_allclose(candidate_form, previous_form, rtol=0, atol=TOLERANCE)


def test_seed004_code_resets_after_the_product(chapter):
    x, h0, Wx, Wh, bx, _ = random_gru(5, T=1)
    no_hidden_bias = np.zeros_like(bx)
    seed_code = chapter["seed004_gru_step"](x[:, 0], h0, Wx, Wh, bx)
    np.testing.assert_allclose(
        seed_code, nn_gru_states(x, h0, Wx, Wh, bx, no_hidden_bias)[:, 0], rtol=0, atol=TOLERANCE
    )
    before = torch_gru_states(x, h0, Wx, Wh, bx, no_hidden_bias, reset_after=False)[:, 0]
    assert np.abs(seed_code - before).max() > 0.01


def test_reset_one_update_zero_is_the_plain_rnn_in_one_convention_only(chapter):
    x, h0, Wx, Wh, bx, bh = random_gru(6)
    H = h0.shape[1]
    forced = chapter["forced_gates"](Wx, Wh, bx, bh, r_bias=40.0, z_bias=-40.0)
    # the plain RNN of chapter 2, through nn.RNN as the oracle
    rnn = nn.RNN(x.shape[2], H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(Wx[:, 2 * H :].T))
        rnn.weight_hh_l0.copy_(torch.tensor(Wh[:, 2 * H :].T))
        rnn.bias_ih_l0.copy_(torch.tensor(bx[2 * H :]))
        rnn.bias_hh_l0.copy_(torch.tensor(bh[2 * H :]))
        rnn_states = rnn(torch.tensor(x), torch.tensor(h0)[None])[0].numpy()
    for reset_after in (True, False):
        previous = chapter["gru_sequence"](x, h0, *forced, reset_after=reset_after, z_weighs="previous")
        np.testing.assert_allclose(previous, rnn_states, rtol=0, atol=1e-12)
        candidate = chapter["gru_sequence"](x, h0, *forced, reset_after=reset_after, z_weighs="candidate")
        np.testing.assert_allclose(candidate, np.broadcast_to(h0[:, None], candidate.shape), rtol=0, atol=1e-12)
        # in the candidate convention the RNN needs z = 1
        forced_z1 = chapter["forced_gates"](Wx, Wh, bx, bh, r_bias=40.0, z_bias=40.0)
        np.testing.assert_allclose(
            chapter["gru_sequence"](x, h0, *forced_z1, reset_after=reset_after, z_weighs="candidate"),
            rnn_states,
            rtol=0,
            atol=1e-12,
        )


def test_input_jacobian_matches_autograd(chapter):
    rng = np.random.default_rng(7)
    T = 6
    x = rng.normal(size=(1, T, 2))
    Wx, Wh, bx, bh = (rng.normal(scale=0.7, size=s) for s in [(2, 3), (1, 3), 3, 3])
    J = chapter["input_jacobian"](x, np.zeros((1, 1)), Wx, Wh, bx, bh)

    def states_autograd(values):
        h = torch.zeros(1, 1, dtype=torch.float64)
        tWx, tWh, tbx, tbh = (torch.tensor(a) for a in (Wx, Wh, bx, bh))
        out = []
        for t in range(T):
            xt = torch.stack([values[t], torch.tensor(x[0, t, 1])])[None]
            gx, gh = xt @ tWx + tbx, h @ tWh + tbh
            r, z = torch.sigmoid(gx[:, 0] + gh[:, 0]), torch.sigmoid(gx[:, 1] + gh[:, 1])
            n = torch.tanh(gx[:, 2] + r * gh[:, 2])
            h = (z * h[:, 0] + (1 - z) * n)[:, None]
            out.append(h[0, 0])
        return torch.stack(out)

    expected = torch.autograd.functional.jacobian(states_autograd, torch.tensor(x[0, :, 0])).numpy()
    np.testing.assert_allclose(J, expected, rtol=1e-10, atol=1e-12)
    assert np.all(np.triu(J, k=1) == 0)  # no state depends on a later input


def test_segment_summariser_forgets_at_boundaries(chapter):
    rng = np.random.default_rng(8)
    T, boundary = 12, 5
    x = np.zeros((1, T, 2))
    x[0, :, 0] = rng.normal(size=T)
    x[0, [0, boundary], 1] = 1.0
    changed = x.copy()
    changed[0, :boundary, 0] += 3.0  # change every value of the first segment
    for gated, bound in [(True, 0.02), (False, None)]:
        weights = chapter["segment_summariser"](gated)
        h, h_changed = (gru_forward(inputs, np.zeros((1, 1)), *weights)[0][0, :, 0] for inputs in (x, changed))
        gap = np.abs(h[boundary:] - h_changed[boundary:]).max()
        if gated:
            assert gap < bound  # the second segment does not see the first one
        else:
            assert gap > 0.1  # with the gate open it does


def test_value_holder_keeps_the_first_value_and_the_plain_rnn_does_not(chapter):
    rng = np.random.default_rng(9)
    N, T = 200, 60
    x = np.zeros((N, T, 2))
    x[:, :, 0] = rng.normal(size=(N, T))
    x[:, 0, 1] = 1.0
    stored = np.tanh(x[:, 0, 0])
    h = gru_forward(x, np.zeros((N, 1)), *chapter["value_holder"]())[0][:, -1, 0]
    assert np.corrcoef(h, stored)[0, 1] > 0.99
    assert np.abs(h - stored).max() < 0.1
    weights = chapter["plain_rnn_as_gru"](0.9)
    h_rnn = gru_forward(x, np.zeros((N, 1)), *weights)[0]
    expected = rnn_forward(x, np.zeros((N, 1)), np.array([[1.0], [0.0]]), np.array([[0.9]]), np.zeros(1))[0]
    np.testing.assert_allclose(h_rnn, expected, rtol=0, atol=1e-12)
    assert abs(np.corrcoef(h_rnn[:, -1, 0], stored)[0, 1]) < 0.3


@pytest.mark.parametrize(("D", "H"), [(3, 7), (50, 20)])
def test_parameter_counts(chapter, D, H):
    count = chapter["count_parameters"]
    block = D * H + H * H + 2 * H
    assert count(nn.RNN(D, H)) == block
    assert count(nn.GRU(D, H)) == 3 * block
    assert count(nn.LSTM(D, H)) == 4 * block
    assert count(nn.GRU(D, H)) * 4 == count(nn.LSTM(D, H)) * 3  # a quarter fewer, exactly


def test_gradcheck_passes_for_both_placements(chapter):
    for reset_after in (True, False):
        errors = chapter["gru_gradcheck"](reset_after, seed=11, N=1, T=3, D=2, H=2)
        assert set(errors) == {"x", "h0", "Wx", "Wh", "bx", "bh"}
        assert max(errors.values()) < 1e-7


def test_matched_hidden_size_is_the_closest(chapter):
    matched = chapter["matched_hidden_size"]
    # on the page it reads the experiment's vocab and EMBED from the notebook's globals: give it small ones
    matched.__globals__.update(vocab=list(range(40)), EMBED=8)
    target = chapter["count_parameters"](CharLM(40, 8, 20, cell="lstm"))
    size = matched("gru", target)

    def gap(h):
        return abs(chapter["count_parameters"](CharLM(40, 8, h, cell="gru")) - target)

    assert gap(size) <= min(gap(size - 1), gap(size + 1))
    assert matched("lstm", target) == 20


def test_per_batch_losses_and_bootstrap(chapter):
    torch.manual_seed(0)
    model = CharLM(12, 4, 6, cell="gru")
    rng = np.random.default_rng(12)
    batches = [(rng.integers(0, 12, size=(2, 5)), rng.integers(0, 12, size=(2, 5))) for _ in range(4)]
    losses = chapter["per_batch_losses"](model, batches)
    assert losses.shape == (4,)
    assert losses.mean() == pytest.approx(evaluate_torch(model, batches, carry_state=True), rel=1e-6)
    low, high = chapter["bootstrap_interval"](np.full(10, 2.0))
    assert low == pytest.approx(np.exp(2.0)) and high == pytest.approx(np.exp(2.0))
    spread = np.random.default_rng(13).normal(3.0, 0.5, size=200)
    low, high = chapter["bootstrap_interval"](spread)
    assert low < np.exp(spread.mean()) < high
