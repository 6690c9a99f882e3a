"""The public NumPy forward functions reject wrong shapes at their entry with a message that teaches: the function, the
argument, the shape found, the shape expected in the book's letters, and a hint for the usual mistake."""

import numpy as np
import pytest

from course_lib import nn_numpy as nn

N, T, D, H, V = 2, 3, 4, 5, 7
rng = np.random.default_rng(0)


def arrays(*shapes):
    return [rng.standard_normal(shape) for shape in shapes]


def test_rnn_forward_names_one_step_passed_instead_of_a_sequence():
    x, h0, Wx, Wh, b = arrays((N, D), (N, H), (D, H), (H, H), (H,))
    with pytest.raises(ValueError) as error:
        nn.rnn_forward(x, h0, Wx, Wh, b)
    assert str(error.value) == (
        "rnn_forward: x has shape (2, 4) but should be (N, T, D); "
        "did you pass one step instead of a sequence? A sequence batch is (N, T, D)"
    )


def test_rnn_step_forward_names_a_sequence_passed_instead_of_one_step():
    x, h, Wx, Wh, b = arrays((N, T, D), (N, H), (D, H), (H, H), (H,))
    with pytest.raises(
        ValueError,
        match=r"rnn_step_forward: x has shape \(2, 3, 4\) but should be \(N, D\); "
        r"did you pass a whole sequence instead of one step x\[:, t\]\?",
    ):
        nn.rnn_step_forward(x, h, Wx, Wh, b)


def test_a_transposed_weight_is_caught_with_the_sizes_read_from_the_other_arguments():
    x, h0, Wx, Wh, b = arrays((N, T, D), (N, H), (H, D), (H, H), (H,))
    with pytest.raises(
        ValueError,
        match=r"rnn_forward: Wx has shape \(5, 4\) but should be \(D, H\) with "
        r"N=2, T=3, D=4, H=5 from the arguments before it; .*transposed",
    ):
        nn.rnn_forward(x, h0, Wx, Wh, b)


@pytest.mark.parametrize(
    "wrong, message",
    [
        ("h0", r"lstm_forward: h0 has shape \(5,\) but should be \(N, H\); the initial state holds one row"),
        ("Wx", r"lstm_forward: Wx has shape \(4, 5\) but should be \(D, 4H\).*fused into one matrix of 4H columns"),
        ("b", r"lstm_forward: b has shape \(15,\) but should be \(4H,\)"),
    ],
)
def test_lstm_forward_checks_states_and_fused_gate_blocks(wrong, message):
    args = dict(
        zip(
            ["x", "h0", "c0", "Wx", "Wh", "b"],
            arrays((N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)),
            strict=True,
        )
    )
    args[wrong] = {"h0": arrays((H,))[0], "Wx": arrays((D, H))[0], "b": arrays((3 * H,))[0]}[wrong]
    with pytest.raises(ValueError, match=message):
        nn.lstm_forward(**args)


def test_lstm_step_forward_checks_the_step_input():
    x, h, c, Wx, Wh, b = arrays((N, T, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))
    with pytest.raises(ValueError, match=r"lstm_step_forward: x has shape \(2, 3, 4\) but should be \(N, D\)"):
        nn.lstm_step_forward(x, h, c, Wx, Wh, b)


def test_gru_forward_and_step_check_the_three_blocks():
    x, h0, Wx, Wh, bx, bh = arrays((N, T, D), (N, H), (D, 4 * H), (H, 3 * H), (3 * H,), (3 * H,))
    with pytest.raises(ValueError, match=r"gru_forward: Wx has shape \(4, 20\) but should be \(D, 3H\)"):
        nn.gru_forward(x, h0, Wx, Wh, bx, bh)
    with pytest.raises(ValueError, match=r"gru_step_forward: x has shape \(2, 3, 4\) but should be \(N, D\)"):
        nn.gru_step_forward(x, h0, Wx[:, : 3 * H], Wh, bx, bh)


def test_a_mismatched_batch_size_between_x_and_the_state_is_caught():
    x, h0, Wx, Wh, bx, bh = arrays((N, T, D), (N + 1, H), (D, 3 * H), (H, 3 * H), (3 * H,), (3 * H,))
    with pytest.raises(ValueError, match=r"gru_forward: h0 has shape \(3, 5\) but should be \(N, H\) with N=2"):
        nn.gru_forward(x, h0, Wx, Wh, bx, bh)


def test_affine_forward_explains_which_axis_it_maps():
    x, W, b = arrays((N, T, D), (H, D), (D,))
    with pytest.raises(
        ValueError,
        match=r"affine_forward: x \(2, 3, 4\), W \(5, 4\) and b \(4,\) should be .*"
        r"maps the last axis of x",
    ):
        nn.affine_forward(x, W, b)


def test_embedding_forward_rejects_one_hot_or_float_inputs():
    E = arrays((V, D))[0]
    with pytest.raises(ValueError, match=r"embedding_forward: indices float64 \(2, 3\) .* did you pass one-hot"):
        nn.embedding_forward(np.zeros((N, T)), E)


def test_correct_shapes_pass_and_give_the_unchecked_result():
    x, h0, Wx, Wh, b = arrays((N, T, D), (N, H), (D, H), (H, H), (H,))
    h, _ = nn.rnn_forward(x, h0, Wx, Wh, b)
    h_step, _ = nn.rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    assert np.allclose(h[:, 0], h_step, rtol=1e-12, atol=1e-12)
    assert np.array_equal(h_step, np.tanh(x[:, 0] @ Wx + h0 @ Wh + b))
    out, _ = nn.embedding_forward(np.array([[0, 6]]), arrays((V, D))[0])
    assert out.shape == (1, 2, D)
