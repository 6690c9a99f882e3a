"""Minibatches for recurrent networks: language-model streams, padded and masked batches, length bucketing.

Explained in the chapter *A character-level language model* (random vs sequential minibatches of one long text, carrying
and detaching the hidden state) and *Sequence labelling* (padding, masks, lengths). Everything returns NumPy int64
arrays, batch first; turn them into tensors with ``torch.from_numpy``.

Language models. A stream of L token indices is cut into windows of T = ``num_steps`` tokens; the target of
each input token is the next token.

- random partitioning: every batch holds windows from random places of the stream. Neighbouring batches are
  unrelated, so the hidden state must start afresh (zeros) for every batch.
- sequential partitioning: the stream is cut into N = ``batch_size`` long rows, and batch b holds the b-th
  window of every row, so row i of batch b + 1 continues row i of batch b. The final hidden state of one
  batch is then the right initial state of the next; it is carried over but *detached* from the graph
  (``detach_state``), so backpropagation stops at the batch boundary (truncated BPTT) while the forward
  pass still remembers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


def _random_offset(rng: np.random.Generator, num_steps: int) -> int:
    # A fresh offset each epoch, so that window boundaries fall at different places.
    return int(rng.integers(0, num_steps))


def lm_random_batches(stream, batch_size: int, num_steps: int, seed: int = 0) -> Iterator[tuple]:
    """Random partitioning of a token stream: one epoch of (X, Y) batches from random, non-overlapping
    windows.

    Parameters
    ----------
    stream : ndarray, shape (L,)
        1-D token indices
    batch_size
        N windows per batch
    num_steps
        T tokens per window
    seed
        seed of the offset and of the order of the windows (use a different seed per epoch)

    Yields
    ------
    X : ndarray, shape (N, T), int64
        inputs
    Y
        targets, (N, T) int64, Y[i, t] = the token after X[i, t] in the stream
        The last windows that do not fill a whole batch are dropped.
    """
    stream = np.asarray(stream, dtype=np.int64)
    rng = np.random.default_rng(seed)
    offset = _random_offset(rng, num_steps)
    num_windows = (len(stream) - offset - 1) // num_steps
    starts = offset + num_steps * rng.permutation(num_windows)
    steps = np.arange(num_steps)
    for first in range(0, num_windows - batch_size + 1, batch_size):
        positions = starts[first : first + batch_size, None] + steps  # (N, T)
        yield stream[positions], stream[positions + 1]


def lm_sequential_batches(
    stream, batch_size: int, num_steps: int, seed: int = 0, offset: int | None = None
) -> Iterator[tuple]:
    """Sequential partitioning of a token stream: row i of each batch continues row i of the previous batch.

    Parameters
    ----------
    stream : ndarray, shape (L,)
        1-D token indices
    batch_size
        N parallel rows
    num_steps
        T tokens per window
    seed
        seed of the random offset at which the rows start (use a different seed per epoch)
    offset
        start exactly here instead (e.g. 0 to evaluate on as much of a held-out stream as possible)

    Yields
    ------
    X
        inputs, (N, T) int64; X_b[i] is followed in the stream by X_{b+1}[i]
    Y
        targets, (N, T) int64, the next tokens
    """
    stream = np.asarray(stream, dtype=np.int64)
    if offset is None:
        offset = _random_offset(np.random.default_rng(seed), num_steps)
    # Tokens per row; the "- 1" keeps the last target inside the stream.
    row_length = (len(stream) - offset - 1) // batch_size
    num_batches = row_length // num_steps
    inputs = stream[offset : offset + batch_size * row_length].reshape(batch_size, row_length)
    targets = stream[offset + 1 : offset + 1 + batch_size * row_length].reshape(batch_size, row_length)
    for batch in range(num_batches):
        window = slice(batch * num_steps, (batch + 1) * num_steps)
        yield inputs[:, window], targets[:, window]


def detach_state(state):
    """Cut a hidden state off the autograd graph, keeping its values (truncated BPTT between batches).

    Parameters
    ----------
    state
        None, a torch tensor (the RNN's and GRU's h), or a tuple/list of them (the LSTM's (h, c))

    Returns
    -------
    state
        the same structure, detached
    """
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(part) for part in state)
    return state.detach()


def pad_sequences(
    sequences: Sequence[Sequence[int]], pad_index: int = 0, max_length: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad sequences of different lengths into one rectangular batch.

    Parameters
    ----------
    sequences
        N sequences of token indices
    pad_index
        the value written after the end of a shorter sequence (``vocab.pad_index``)
    max_length
        pad (and truncate) to this length; default the longest sequence's length

    Returns
    -------
    padded : ndarray, shape (N, T), int64
        T = max_length or the longest length
    lengths : ndarray, shape (N,), int64
        the true length of each sequence (after truncation)
    mask : ndarray, shape (N, T), bool
        True on real tokens and False on padding; losses and metrics average over mask only
    """
    lengths = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
    T = int(lengths.max(initial=0)) if max_length is None else int(max_length)
    lengths = np.minimum(lengths, T)
    padded = np.full((len(sequences), T), pad_index, dtype=np.int64)
    for row, sequence in enumerate(sequences):
        padded[row, : lengths[row]] = np.asarray(sequence[: lengths[row]], dtype=np.int64)
    mask = np.arange(T)[None, :] < lengths[:, None]
    return padded, lengths, mask


def bucket_batches(
    lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int = 0, bucket_size: int | None = None
) -> list[np.ndarray]:
    """Group examples of similar length into batches, so little of each batch is padding.

    The examples are shuffled, cut into buckets of ``bucket_size`` (default 50 batches' worth), each bucket is
    sorted by length and cut into batches, and the batches are shuffled. Without shuffle, the batches
    simply follow the order of increasing length.

    Parameters
    ----------
    lengths : ndarray, shape (M,)
        length of every example
    batch_size
        examples per batch (the last batch of a bucket may be smaller)
    shuffle
        randomise buckets and batch order (training) or not (evaluation)
    seed
        seed of the shuffles (use a different seed per epoch)
    bucket_size
        examples per bucket

    Returns
    -------
    batches
        list of int64 index arrays into the examples; together they hold every index exactly once
    """
    lengths = np.asarray(lengths)
    if not shuffle:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng = np.random.default_rng(seed)
    bucket_size = bucket_size or 50 * batch_size
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), bucket_size):
        bucket = order[start : start + bucket_size]
        bucket = bucket[np.argsort(lengths[bucket], kind="stable")]
        batches.extend(bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def padded_batches(
    inputs: Sequence[Sequence[int]],
    targets=None,
    batch_size: int = 32,
    pad_index: int = 0,
    target_pad_index: int = 0,
    shuffle: bool = True,
    seed: int = 0,
    bucket: bool = True,
) -> Iterator[dict]:
    """One epoch of padded, masked batches for tagging (a target per token) or classification (one per
    sequence).

    Parameters
    ----------
    inputs
        M sequences of token indices
    targets
        None, M sequences of tag indices (tagging: padded like the inputs), or M numbers
        (classification)
    batch_size, shuffle, seed
        as in ``bucket_batches``
    pad_index
        padding value of the inputs; target_pad_index: padding value of per-token targets
    bucket
        group similar lengths (``bucket_batches``); otherwise plain (optionally shuffled) order

    Yields
    ------
    batch : dict
        ``"inputs"`` (N, T) int64; ``"lengths"`` (N,) int64; ``"mask"`` (N, T) bool; ``"indices"`` (N,), the
        positions of the batch's examples in ``inputs``; ``"targets"`` (N, T) int64 for per-token targets, (N,) for
        per-sequence targets (absent without targets)
    """
    lengths = [len(sequence) for sequence in inputs]
    if bucket:
        batches = bucket_batches(lengths, batch_size, shuffle=shuffle, seed=seed)
    else:
        order = np.random.default_rng(seed).permutation(len(inputs)) if shuffle else np.arange(len(inputs))
        batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    per_token = targets is not None and len(targets) > 0 and np.ndim(targets[0]) == 1
    for indices in batches:
        padded, batch_lengths, mask = pad_sequences([inputs[i] for i in indices], pad_index)
        batch = {"inputs": padded, "lengths": batch_lengths, "mask": mask, "indices": np.asarray(indices)}
        if targets is not None:
            if per_token:
                batch["targets"] = pad_sequences(
                    [targets[i] for i in indices], target_pad_index, max_length=padded.shape[1]
                )[0]
            else:
                batch["targets"] = np.asarray([targets[i] for i in indices])
        yield batch


def seq2seq_batches(
    sources: Sequence[Sequence[int]],
    targets: Sequence[Sequence[int]],
    batch_size: int = 32,
    pad_index: int = 0,
    bos_index: int = 2,
    eos_index: int = 3,
    shuffle: bool = True,
    seed: int = 0,
) -> Iterator[dict]:
    """One epoch of encoder-decoder batches with teacher forcing (chapter *Encoder–decoder*).

    The decoder reads ``<bos> y_1 .. y_m`` and must output ``y_1 .. y_m <eos>``: at every step its input is
    the true previous token, not its own guess.

    Parameters
    ----------
    sources, targets
        M paired sequences of token indices (without <bos>/<eos>)
    batch_size, shuffle, seed
        as in ``bucket_batches`` (bucketed by source length)
    pad_index, bos_index, eos_index
        the reserved indices of the vocabularies (``Vocab``'s defaults)

    Yields
    ------
    batch : dict
        ``"inputs"`` (N, S) sources; ``"lengths"`` (N,); ``"mask"`` (N, S) bool; ``"indices"`` (N,);
        ``"decoder_inputs"`` (N, m + 1) ``<bos> y_1 .. y_m``; ``"targets"`` (N, m + 1) ``y_1 .. y_m <eos>``;
        ``"target_mask"`` (N, m + 1) bool, False on padding
    """
    for indices in bucket_batches([len(s) for s in sources], batch_size, shuffle=shuffle, seed=seed):
        inputs, lengths, mask = pad_sequences([sources[i] for i in indices], pad_index)
        decoder_inputs, _, _ = pad_sequences([[bos_index, *targets[i]] for i in indices], pad_index)
        shifted, _, target_mask = pad_sequences([[*targets[i], eos_index] for i in indices], pad_index)
        yield {
            "inputs": inputs,
            "lengths": lengths,
            "mask": mask,
            "indices": np.asarray(indices),
            "decoder_inputs": decoder_inputs,
            "targets": shifted,
            "target_mask": target_mask,
        }
