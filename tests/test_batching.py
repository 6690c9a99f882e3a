"""Batching: LM windows line up with the stream, sequential rows continue, padding and masks are right."""

import numpy as np
import pytest
import torch

from course_lib.data.batching import (
    bucket_batches,
    detach_state,
    lm_random_batches,
    lm_sequential_batches,
    pad_sequences,
    padded_batches,
)

STREAM = np.arange(1000) * 7 % 1009  # distinct values, so a value identifies its position


def _positions(values):
    # STREAM holds distinct values; map each back to its index in the stream.
    lookup = {int(v): i for i, v in enumerate(STREAM)}
    return np.vectorize(lookup.__getitem__)(values)


@pytest.mark.parametrize("make_batches", [lm_random_batches, lm_sequential_batches])
def test_lm_targets_are_the_next_tokens(make_batches):
    batches = list(make_batches(STREAM, batch_size=4, num_steps=6, seed=1))
    assert len(batches) > 10
    for X, Y in batches:
        assert X.shape == Y.shape == (4, 6) and X.dtype == np.int64
        np.testing.assert_array_equal(_positions(Y), _positions(X) + 1)
        np.testing.assert_array_equal(np.diff(_positions(X), axis=1), 1)  # each row is a contiguous window


def test_random_windows_do_not_overlap_and_are_shuffled():
    starts = [p for X, _ in lm_random_batches(STREAM, 4, 6, seed=2) for p in _positions(X[:, 0])]
    assert len(set(starts)) == len(starts)
    assert np.all(np.diff(np.sort(starts)) >= 6)
    assert starts != sorted(starts)
    again = [p for X, _ in lm_random_batches(STREAM, 4, 6, seed=2) for p in _positions(X[:, 0])]
    assert starts == again


def test_sequential_rows_continue_across_batches():
    batches = list(lm_sequential_batches(STREAM, batch_size=3, num_steps=5, seed=0))
    for (X_prev, _), (X_next, _) in zip(batches[:-1], batches[1:], strict=True):
        np.testing.assert_array_equal(_positions(X_next[:, 0]), _positions(X_prev[:, -1]) + 1)
    # The rows cover disjoint stretches of the stream.
    rows = [set(np.concatenate([_positions(X[i]) for X, _ in batches])) for i in range(3)]
    assert not (rows[0] & rows[1] or rows[1] & rows[2])


def test_detach_state_keeps_values_and_cuts_the_graph():
    weight = torch.ones(2, requires_grad=True)
    h, c = weight * 2, weight * 3
    detached = detach_state((h, c))
    assert isinstance(detached, tuple) and not detached[0].requires_grad and not detached[1].requires_grad
    assert torch.equal(detached[0], h) and torch.equal(detached[1], c)
    assert detach_state(None) is None
    assert not detach_state(h).requires_grad


def test_pad_sequences_shapes_lengths_and_mask():
    padded, lengths, mask = pad_sequences([[5, 6, 7], [8], [9, 10]], pad_index=0)
    np.testing.assert_array_equal(padded, [[5, 6, 7], [8, 0, 0], [9, 10, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 2])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [1, 1, 0]])
    padded, lengths, mask = pad_sequences([[1, 2, 3, 4]], pad_index=9, max_length=2)
    assert padded.tolist() == [[1, 2]] and lengths.tolist() == [2] and mask.all()


def test_bucket_batches_cover_every_index_once_and_group_lengths():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=1000)
    batches = bucket_batches(lengths, batch_size=16, seed=3)
    everything = np.concatenate(batches)
    assert sorted(everything.tolist()) == list(range(1000))
    padding_bucketed = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)
    plain = [np.arange(i, min(i + 16, 1000)) for i in range(0, 1000, 16)]
    padding_plain = sum(lengths[b].max() * len(b) - lengths[b].sum() for b in plain)
    assert padding_bucketed < 0.3 * padding_plain
    assert [b.tolist() for b in batches] == [b.tolist() for b in bucket_batches(lengths, 16, seed=3)]


def test_padded_batches_for_tagging_and_classification():
    inputs = [[1, 2, 3], [4], [5, 6], [7, 8, 9, 10]]
    tags = [[11, 12, 13], [14], [15, 16], [17, 18, 19, 20]]
    seen = set()
    for batch in padded_batches(inputs, tags, batch_size=2, pad_index=0, target_pad_index=0, seed=1):
        N, T = batch["inputs"].shape
        assert batch["targets"].shape == (N, T) and batch["mask"].shape == (N, T)
        for row, index in enumerate(batch["indices"]):
            seen.add(int(index))
            length = len(inputs[index])
            assert batch["lengths"][row] == length
            assert batch["inputs"][row, :length].tolist() == inputs[index]
            assert batch["targets"][row, :length].tolist() == tags[index]
            assert not batch["mask"][row, length:].any()
    assert seen == {0, 1, 2, 3}
    labels = [1, 0, 1, 0]
    for batch in padded_batches(inputs, labels, batch_size=3, shuffle=False, bucket=False):
        assert batch["targets"].tolist() == [labels[i] for i in batch["indices"]]


def test_seq2seq_batches_shift_targets_by_one():
    from course_lib.data.batching import seq2seq_batches

    sources, targets = [[5, 6, 7], [8]], [[10, 11], [12, 13, 14]]
    (batch,) = list(
        seq2seq_batches(sources, targets, batch_size=2, pad_index=0, bos_index=2, eos_index=3, shuffle=False)
    )
    order = batch["indices"].tolist()
    assert sorted(order) == [0, 1]
    row = order.index(1)
    assert batch["decoder_inputs"][row].tolist() == [2, 12, 13, 14]
    assert batch["targets"][row].tolist() == [12, 13, 14, 3]
    assert batch["target_mask"][row].all()
    other = order.index(0)
    assert batch["decoder_inputs"][other].tolist() == [2, 10, 11, 0]
    assert batch["targets"][other].tolist() == [10, 11, 3, 0]
    assert batch["target_mask"][other].tolist() == [True, True, True, False]
    assert batch["inputs"][other].tolist() == [5, 6, 7] and batch["lengths"][row] == 1
