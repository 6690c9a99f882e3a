"""Chapter 10 (book/10-encoder-decoder.md): its teaching code is right.

The chapter's functions are taken from the page itself (its import cell and every function definition). Oracles are
independent of the code under test: hand-computed cases, the decoder run one step at a time through ``Seq2Seq``'s
``encode``/``decode``, and the defining equation of the Wilson interval.
"""

import pathlib

import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace

from course_lib.nn_torch.models import Seq2Seq

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "10-encoder-decoder.md"
BOS, EOS = 2, 3


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(CHAPTER)


def test_cut_at_eos(chapter):
    cut = chapter["cut_at_eos"]
    assert cut(np.array([5, 6, 3, 7, 3]), 3) == [5, 6]
    assert cut(np.array([5, 6, 7]), 3) == [5, 6, 7]
    assert cut(np.array([3, 5]), 3) == []


def test_sequence_accuracies_by_hand(chapter):
    accuracies = chapter["sequence_accuracies"]
    exact, per_char = accuracies([[1, 2, 3], [1, 2], [4, 5, 6, 7]], [[1, 2, 3], [1, 2, 9], [4, 0, 6]])
    assert exact == pytest.approx(1 / 3)  # the last is too long, the second too short
    assert per_char == pytest.approx((3 + 2 + 2) / 9)
    assert accuracies([[]], [[1, 2]]) == (0.0, 0.0)


def test_positional_majority(chapter):
    assert chapter["positional_majority"]([[1, 5, 7], [1, 6, 7], [2, 6, 8]]) == [1, 6, 7]


@pytest.mark.parametrize("successes, total", [(0, 50), (7, 20), (999, 1000), (500, 1000)])
def test_wilson_interval_solves_its_equation(chapter, successes, total):
    low, high = chapter["proportion_interval"](successes, total)
    p_hat, z = successes / total, 1.96
    assert 0 <= low <= p_hat <= high <= 1
    for p in (low, high):  # the endpoints are the p with |p_hat - p| = z sqrt(p (1 - p) / n)
        assert abs(p_hat - p) == pytest.approx(z * np.sqrt(p * (1 - p) / total), abs=1e-12)


def test_random_digit_strings(chapter):
    strings = chapter["random_digit_strings"](300, seed=5, shortest=3, longest=9)
    assert strings == chapter["random_digit_strings"](300, seed=5, shortest=3, longest=9)
    assert {len(s) for s in strings} == set(range(3, 10))
    assert {d for s in strings for d in s} == set(range(4, 14))


def random_model_and_data(seed, num=7):
    torch.manual_seed(seed)
    model = Seq2Seq(9, 8, embed_size=6, hidden_size=10, cell="gru")
    rng = np.random.default_rng(seed)
    sources = [list(rng.integers(4, 9, size=n)) for n in rng.integers(1, 6, size=num)]
    targets = [list(rng.integers(4, 8, size=n)) for n in rng.integers(1, 5, size=num)]
    return model, sources, targets


def step_by_step(model, source, feed):
    """Run the decoder one token at a time. feed(t, predicted) gives the token read at step t + 1."""
    model.eval()
    with torch.no_grad():
        state = model.encode(torch.tensor([source]), [len(source)])
        context = state[-1] if state.dim() == 3 else state
        token, predicted = BOS, []
        for t in range(12):
            logits, state = model.decode(torch.tensor([[token]]), state, context)
            predicted.append(int(logits[0, -1].argmax()))
            token = feed(t, predicted)
            if token is None:
                break
    return predicted


def test_teacher_forced_predictions_read_the_true_prefix(chapter):
    model, sources, targets = random_model_and_data(0)
    got = chapter["teacher_forced_predictions"](model, sources, targets)
    for source, target, prediction in zip(sources, targets, got, strict=True):
        expected = step_by_step(model, source, lambda t, _, y=target: y[t] if t < len(y) - 1 else None)
        assert prediction == expected


def test_greedy_predictions_read_their_own_output(chapter):
    model, sources, _ = random_model_and_data(1, num=9)
    got = chapter["greedy_predictions"](model, sources, 12)
    for source, prediction in zip(sources, got, strict=True):
        expected = step_by_step(model, source, lambda t, p: None if p[-1] == EOS else p[-1])
        if EOS in expected:
            expected = expected[: expected.index(EOS)]
        assert prediction == expected


def test_exact_match_is_the_same_under_both_scorings(chapter):
    """The prose's claim: right at every step given the true prefix <=> greedy writes the target (before <eos>)."""
    model, sources, _ = random_model_and_data(2, num=12)
    inputs, lengths, _ = chapter["pad_sequences"](sources, 0)
    raw = model.greedy_decode(inputs, lengths, BOS, 4)
    own = [[int(t) if t != EOS else 4 for t in row] for row in raw]  # the model's own first four tokens, no <eos>
    forced = chapter["teacher_forced_predictions"](model, sources, own)
    with_eos = [EOS in row for row in raw]
    assert any(with_eos) and not all(with_eos)  # both cases occur in this draw
    for row, target, prediction in zip(raw, own, forced, strict=True):
        # where greedy wrote no <eos>, it wrote the target itself, so teacher forcing is right at every step
        assert (prediction == target) == all(t != EOS for t in row)
