"""The metrics the chapters report: perplexity, token accuracy, span-level slot F1, exact match, mean squared error.

Pure functions of predictions and targets (NumPy arrays or lists), kept apart from the training loops of
``course_lib.train``, which re-exports them.
"""

from __future__ import annotations

import math

import numpy as np


def perplexity(mean_cross_entropy: float) -> float:
    """Perplexity: exp of the mean cross-entropy per token.

    Parameters
    ----------
    mean_cross_entropy : float
        Mean cross-entropy per token, in nats.

    Returns
    -------
    float
        ``exp(mean_cross_entropy)``.
    """
    return float(math.exp(mean_cross_entropy))


def token_accuracy(predictions, targets, mask=None) -> float:
    """Fraction of tokens whose predicted label equals the target, counting only where mask is True.

    Parameters
    ----------
    predictions : array_like, shape (N, T) or any shape
        Predicted labels.
    targets : array_like, same shape as ``predictions``
        Target labels.
    mask : array_like of bool, same shape as ``predictions``, or None
        Tokens to count; None counts all tokens.

    Returns
    -------
    float
        The fraction of counted tokens predicted right.
    """
    correct = np.asarray(predictions) == np.asarray(targets)
    if mask is not None:
        correct = correct[np.asarray(mask, dtype=bool)]
    return float(correct.mean())


def bio_spans(labels) -> set[tuple[str, int, int]]:
    """The slots of a BIO label sequence as (slot, start, end) with end exclusive.

    ``['O', 'B-date', 'I-date', 'B-arrival']`` -> ``{('date', 1, 3), ('arrival', 3, 4)}``. An I- label that does not
    continue a span of its own slot starts a new span (the usual, lenient reading of broken BIO).

    Parameters
    ----------
    labels : sequence of str
        BIO labels (``'O'``, ``'B-<slot>'``, ``'I-<slot>'``).

    Returns
    -------
    set of tuple (str, int, int)
        One ``(slot, start, end)`` per span, ``end`` exclusive.
    """
    spans = set()
    current, start = None, 0
    for position, label in enumerate(list(labels) + ["O"]):
        prefix, _, slot = label.partition("-")
        continues = prefix == "I" and slot == current
        if current is not None and not continues:
            spans.add((current, start, position))
            current = None
        if prefix in ("B", "I") and not continues:
            current, start = slot, position
    return spans


def slot_f1(predicted_sequences, gold_sequences) -> dict[str, float]:
    """Span-level precision, recall and F1 of slot filling.

    A slot counts only if its type, start and end are all right (the CoNLL convention).

    Parameters
    ----------
    predicted_sequences : list of list of str
        Predicted label sequences (BIO strings).
    gold_sequences : list of list of str
        Gold label sequences, paired with ``predicted_sequences``.

    Returns
    -------
    dict of str to float
        ``{"precision", "recall", "f1"}``.
    """
    true_positives = num_predicted = num_gold = 0
    for predicted, gold in zip(predicted_sequences, gold_sequences, strict=True):
        predicted_spans, gold_spans = bio_spans(predicted), bio_spans(gold)
        true_positives += len(predicted_spans & gold_spans)
        num_predicted += len(predicted_spans)
        num_gold += len(gold_spans)
    precision = true_positives / num_predicted if num_predicted else 0.0
    recall = true_positives / num_gold if num_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def exact_match(predicted_sequences, gold_sequences) -> float:
    """Fraction of sequences predicted entirely right (e.g. a whole decoded date).

    Parameters
    ----------
    predicted_sequences : sequence of sequences
        Predicted sequences.
    gold_sequences : sequence of sequences
        Gold sequences, paired with ``predicted_sequences``.

    Returns
    -------
    float
        The fraction of pairs whose sequences are equal.
    """
    pairs = list(zip(predicted_sequences, gold_sequences, strict=True))
    return float(np.mean([list(p) == list(g) for p, g in pairs]))


def mean_squared_error(predictions, targets) -> float:
    """Mean of the squared differences between predictions and targets.

    Parameters
    ----------
    predictions : array_like
        Predicted values, any shape.
    targets : array_like
        Target values, same shape as ``predictions``.

    Returns
    -------
    float
        The mean squared error.
    """
    return float(np.mean((np.asarray(predictions, dtype=float) - np.asarray(targets, dtype=float)) ** 2))
