"""Bag-of-words logistic regression for sentiment, in NumPy: the baseline of the chapter *Sequence classification*.

Chinese has no spaces between words, so the "words" are character n-grams (by default characters and
character bigrams): '质量很好' -> 质, 量, 很, 好, 质量, 量很, 很好. A review becomes the vector of its
n-gram counts (log-scaled, 1 + log c, so a repeated character does not dominate), and a logistic regression
with an L2 penalty, trained by full-batch Adam, gives P(positive | review) = sigmoid(x . w + b). Word order
beyond the n-grams is lost: that is what the recurrent classifier has and this model has not.

The review-by-feature matrix is sparse (a review uses a few dozen of the tens of thousands of features), so
it is kept in compressed sparse row (CSR) form with plain NumPy arrays: ``values``, ``columns`` and
``row_starts``.
"""

from __future__ import annotations

import collections

import numpy as np


def char_ngrams(text: str, orders=(1, 2)) -> list[str]:
    """All character n-grams of the given orders, in order of appearance: ('ab', (1, 2)) -> a, b, ab."""
    return [text[i : i + n] for n in orders for i in range(len(text) - n + 1)]


class _SparseRows:
    """A CSR matrix (N, F): row r's non-zeros are values[row_starts[r]:row_starts[r+1]] at those columns."""

    def __init__(self, values, columns, row_starts, num_columns):
        self.values, self.columns, self.row_starts = values, columns, row_starts
        self.shape = (len(row_starts) - 1, num_columns)
        self.row_of_entry = np.repeat(np.arange(self.shape[0]), np.diff(row_starts))

    def matvec(self, w):
        """X @ w: (N,)"""
        return np.bincount(self.row_of_entry, weights=self.values * w[self.columns], minlength=self.shape[0])

    def rmatvec(self, g):
        """X.T @ g: (F,)"""
        return np.bincount(self.columns, weights=self.values * g[self.row_of_entry], minlength=self.shape[1])


class BagOfWordsLogisticRegression:
    """Sentiment from a bag of character n-grams.

    Parameters
    ----------
    orders : tuple of int
        the n-gram orders used as features
    min_count : int
        keep n-grams seen in at least this many training texts
    max_features : int
        keep at most this many (the most frequent)
    l2 : float
        weight of the penalty ``l2 / 2 * ||w||^2`` (the bias is not penalised)
    lr, epochs : float, int
        full-batch Adam's step size and number of steps
    seed : int
        not needed by the deterministic algorithm; kept so every baseline has one
    """

    def __init__(
        self,
        orders=(1, 2),
        min_count: int = 2,
        max_features: int = 50_000,
        l2: float = 1e-3,
        lr: float = 0.05,
        epochs: int = 200,
        seed: int = 0,
    ):
        self.orders, self.min_count, self.max_features = tuple(orders), min_count, max_features
        self.l2, self.lr, self.epochs, self.seed = l2, lr, epochs, seed
        self.feature_index: dict[str, int] = {}
        self.weights = np.zeros(0)
        self.bias = 0.0
        self.loss_history: list[float] = []

    def _features(self, texts) -> _SparseRows:
        values, columns, row_starts = [], [], [0]
        for text in texts:
            counts = collections.Counter(
                self.feature_index[g] for g in char_ngrams(text, self.orders) if g in self.feature_index
            )
            columns.extend(counts.keys())
            values.extend(1.0 + np.log(list(counts.values())) if counts else [])
            row_starts.append(len(columns))
        return _SparseRows(
            np.asarray(values, dtype=np.float64),
            np.asarray(columns, dtype=np.int64),
            np.asarray(row_starts, dtype=np.int64),
            len(self.feature_index),
        )

    def fit(self, texts, labels) -> BagOfWordsLogisticRegression:
        """Choose the features from the training texts and fit w, b. labels: 0/1. Returns self."""
        document_counts = collections.Counter(g for text in texts for g in set(char_ngrams(text, self.orders)))
        kept = sorted(
            (g for g, c in document_counts.items() if c >= self.min_count), key=lambda g: (-document_counts[g], g)
        )[: self.max_features]
        self.feature_index = {g: i for i, g in enumerate(kept)}
        X, y = self._features(texts), np.asarray(labels, dtype=np.float64)
        N, F = X.shape
        params = np.zeros(F + 1)  # w and, last, b
        m, v = np.zeros_like(params), np.zeros_like(params)
        self.loss_history = []
        for t in range(1, self.epochs + 1):
            w, b = params[:F], params[F]
            p = 1.0 / (1.0 + np.exp(-(X.matvec(w) + b)))  # P(positive), (N,)
            loss = -np.mean(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)) + self.l2 / 2 * w @ w
            self.loss_history.append(float(loss))
            error = (p - y) / N  # d loss / d logits
            grad = np.concatenate([X.rmatvec(error) + self.l2 * w, [error.sum()]])
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            params -= self.lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        self.weights, self.bias = params[:F], float(params[F])
        return self

    def predict_proba(self, texts) -> np.ndarray:
        """P(positive) of each text, (N,)."""
        return 1.0 / (1.0 + np.exp(-(self._features(texts).matvec(self.weights) + self.bias)))

    def predict(self, texts) -> np.ndarray:
        """0/1 label of each text, (N,)."""
        return (self.predict_proba(texts) >= 0.5).astype(np.int64)

    def accuracy(self, texts, labels) -> float:
        return float(np.mean(self.predict(texts) == np.asarray(labels)))

    def top_features(self, k: int = 10) -> tuple[list[str], list[str]]:
        """The k n-grams that push most towards positive, and the k most towards negative."""
        names = list(self.feature_index)
        order = np.argsort(self.weights)
        return [names[i] for i in order[::-1][:k]], [names[i] for i in order[:k]]
