"""The n-gram language model, the baseline every neural language model of the course must beat.

Explained in the chapter *Sequences and language models*. An n-gram model predicts a token from the n - 1 tokens before
it only, with probabilities estimated by counting. Two ways to give unseen n-grams some probability ("smoothing"):

- ``"add_k"`` (additive, Laplace for k = 1):  P(w | h) = (c(h w) + k) / (c(h) + k V). Simple, and poor for
  large n: most long contexts are never seen, so the model spreads their mass evenly over all V tokens.
- ``"kneser_ney"`` (interpolated Kneser-Ney, Chen & Goodman 1998): subtract a discount D from every seen
  count and give the freed mass to the model of order n - 1, whose counts are *continuation* counts (in how
  many distinct contexts a token was seen):

      P_k(w | h) = max(c_k(h w) - D_k, 0) / c_k(h)  +  D_k N_k(h .) / c_k(h) * P_{k-1}(w | h'),

  where h' is h without its oldest token, N_k(h .) is the number of distinct tokens seen after h, and
  P_0 = 1 / V. A context never seen falls back to P_{k-1} entirely. D_k = n1 / (n1 + 2 n2) (Ney et al.
  1994) from the numbers of n-grams seen once (n1) and twice (n2), kept inside [0.1, 0.9].

Counting is vectorised. Every distinct k-gram seen in training gets a rank (its position in a sorted
table), and a k-gram is stored as one int64 "code", rank(its first k - 1 tokens) * V + its last token, so
NumPy can sort and count them (``np.unique``) and look them up (``np.searchsorted``). A code is below
(number of distinct (k-1)-grams) * V, at most the training length times V, so any order n fits in int64;
packing all n tokens as base-V digits instead would need V ** n < 2 ** 63 and stop at n = 5 for the
People's Daily characters.
"""

from __future__ import annotations

import numpy as np

SMOOTHINGS = ("kneser_ney", "add_k")


class _OrderCounts:
    """Counts of one order k: sorted n-gram codes with their counts, and per-context totals and type
    counts."""

    def __init__(self, codes: np.ndarray, counts: np.ndarray, vocab_size: int):
        self.codes, self.counts = codes, counts.astype(np.float64)
        contexts = codes // vocab_size
        self.context_codes, inverse = np.unique(contexts, return_inverse=True)
        self.context_totals = np.bincount(inverse, weights=self.counts)  # c(h)
        self.context_types = np.bincount(inverse).astype(np.float64)  # N(h .)

    @staticmethod
    def _lookup(sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """values[j] where sorted_keys[j] == query, 0 where the query is absent."""
        if len(sorted_keys) == 0:
            return np.zeros(len(queries))
        position = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
        return np.where(sorted_keys[position] == queries, values[position], 0.0)

    def count(self, codes):
        return self._lookup(self.codes, self.counts, codes)

    def context_stats(self, context_codes):
        return (
            self._lookup(self.context_codes, self.context_totals, context_codes),
            self._lookup(self.context_codes, self.context_types, context_codes),
        )


class NGramLM:
    """An n-gram language model over integer token indices, with add-k or interpolated Kneser-Ney smoothing.

    Parameters
    ----------
    n : int
        order of the model (1 = unigram, 2 = bigram, ...): a token is predicted from the n - 1 tokens
        before it
    vocab_size : int
        V, the number of possible tokens (indices 0 .. V-1), e.g. ``len(vocab)``
    smoothing : str
        "kneser_ney" (default) or "add_k"
    k : float
        the pseudo-count of add-k smoothing
    discount : float or None
        Kneser-Ney discount D for every order, or None to estimate D_k = n1 / (n1 + 2 n2) per order
        (clipped to [0.1, 0.9])

    Notes
    -----

    Use: ``NGramLM(3, len(vocab)).fit(train_ids).perplexity(test_ids)``. Token streams are 1-D integer arrays,
    e.g. from ``Vocab.encode_stream``; each token is predicted from the tokens before it in the same stream.
    """

    def __init__(
        self, n: int, vocab_size: int, smoothing: str = "kneser_ney", k: float = 1.0, discount: float | None = None
    ):
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {smoothing!r}")
        self.n, self.vocab_size, self.smoothing, self.k, self.discount = n, vocab_size, smoothing, k, discount
        self.orders: list[_OrderCounts] = []  # orders[k - 1] holds the counts of order k
        self.discounts: list[float] = []
        self.distinct: list[np.ndarray] = []  # distinct[k - 1]: sorted codes of every k-gram seen, k < n

    def fit(self, ids) -> NGramLM:
        """Count the n-grams of a training stream of token indices, (L,). Returns self."""
        ids = np.asarray(ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) < self.n:
            raise ValueError(f"fit needs a 1-D stream of at least n = {self.n} token indices")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError(f"token indices must lie in [0, {self.vocab_size})")
        L, V = len(ids), self.vocab_size
        # Order k: the code of the window ids[i : i + k] for every start i, then its distinct codes, their counts,
        # the rank of every window among them (inverse) and the start of each one's first occurrence.
        raw = []
        rank_of_window = np.zeros(L, dtype=np.int64)  # order 0: the empty prefix, rank 0
        for order in range(1, self.n + 1):
            codes = rank_of_window[: L - order + 1] * V + ids[order - 1 :]
            distinct, first, rank_of_window, counts = np.unique(
                codes, return_index=True, return_inverse=True, return_counts=True
            )
            raw.append((distinct, first, rank_of_window, counts))
        self.distinct = [raw[order - 1][0] for order in range(1, self.n)]
        self.orders, self.discounts = [], []
        for order in range(1, self.n + 1):
            codes, _, ranks, counts = raw[order - 1]
            if self.smoothing == "kneser_ney" and order < self.n:
                # Continuation count of a k-gram: in how many distinct (k+1)-grams it is the ending. The ending of
                # the (k+1)-gram that starts at i is the k-gram that starts at i + 1.
                ending_ranks = ranks[raw[order][1] + 1]
                ending_ranks, counts = np.unique(ending_ranks, return_counts=True)
                codes = raw[order - 1][0][ending_ranks]
            self.orders.append(_OrderCounts(codes, counts, V))
            self.discounts.append(self._estimate_discount(counts) if self.discount is None else self.discount)
        return self

    def _rank(self, history: np.ndarray) -> np.ndarray:
        """Rank among the distinct m-grams seen in training of each row of history, (M, m) -> (M,); -1 for a
        row never seen in training or holding a -1 ("no token"). The empty history (m = 0) has rank 0."""
        M, m = history.shape
        rank = np.zeros(M, dtype=np.int64)
        for column in range(m):
            code = np.where(rank >= 0, rank * self.vocab_size + history[:, column], -1)
            table = self.distinct[column]
            position = np.minimum(np.searchsorted(table, code), len(table) - 1)
            found = (rank >= 0) & (history[:, column] >= 0) & (table[position] == code)
            rank = np.where(found, position, -1)
        return rank

    @staticmethod
    def _estimate_discount(counts: np.ndarray) -> float:
        """D = n1 / (n1 + 2 n2), kept inside [0.1, 0.9]: D = 0 (no n-gram seen once) would give unseen
        tokens no probability at all, and D = 1 would give seen ones nothing of their own."""
        n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
        estimate = n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5
        return float(np.clip(estimate, 0.1, 0.9))

    def _probabilities(self, contexts: np.ndarray, words: np.ndarray) -> np.ndarray:
        """P(word | context) for M queries.

        Parameters
        ----------
        contexts
            (M, n - 1) previous tokens, oldest first; -1 marks "no token" (the start of a stream)
        words : ndarray, shape (M,)
            the predicted tokens

        Returns
        -------
        probabilities : ndarray, shape (M,)
        """
        if not self.orders:
            raise RuntimeError("call fit before asking for probabilities")
        V = self.vocab_size
        probability = np.full(len(words), 1.0 / V)  # P_0: uniform
        for order in range(1, self.n + 1):
            history = contexts[:, self.n - order :]  # the last order - 1 tokens, (M, order - 1)
            available = np.all(history >= 0, axis=1)
            context_code = self._rank(history)  # -1 (never seen) gives counts of 0 below
            counts = self.orders[order - 1]
            count = counts.count(np.where(context_code >= 0, context_code * V + words, -1))
            total, types = counts.context_stats(context_code)
            seen = available & (total > 0)
            safe_total = np.where(seen, total, 1.0)
            if self.smoothing == "add_k":
                # Only the longest available context is used; a context never seen gives the uniform 1 / V.
                addk = (count + self.k) / (np.where(available, total, 0.0) + self.k * V)
                probability = np.where(available, addk, probability)
            else:
                discount = self.discounts[order - 1]
                interpolated = (
                    np.maximum(count - discount, 0.0) / safe_total + discount * types / safe_total * probability
                )
                probability = np.where(seen, interpolated, probability)
        return probability

    def _contexts_of_stream(self, ids: np.ndarray) -> np.ndarray:
        """(L, n - 1) matrix whose row i holds ids[i - n + 1 : i], padded with -1 before the stream's
        start."""
        padded = np.concatenate([np.full(self.n - 1, -1, dtype=np.int64), ids])
        contexts = np.empty((len(ids), self.n - 1), dtype=np.int64)
        for column in range(self.n - 1):
            contexts[:, column] = padded[column : column + len(ids)]
        return contexts

    def token_probabilities(self, ids) -> np.ndarray:
        """Probability of each token of a stream given the (up to) n - 1 tokens before it: (L,) for ids
        (L,)."""
        ids = np.asarray(ids, dtype=np.int64)
        return self._probabilities(self._contexts_of_stream(ids), ids)

    def next_token_distribution(self, context) -> np.ndarray:
        """P(. | context) over the whole vocabulary, (V,); only the last n - 1 tokens of ``context``
        matter."""
        context = list(context)[-(self.n - 1) :] if self.n > 1 else []
        row = np.array([-1] * (self.n - 1 - len(context)) + context, dtype=np.int64)
        contexts = np.tile(row, (self.vocab_size, 1)).reshape(self.vocab_size, self.n - 1)
        return self._probabilities(contexts, np.arange(self.vocab_size, dtype=np.int64))

    def ngram_counts(self, ids) -> np.ndarray:
        """How often each n-gram of a stream, ids[i : i + n], occurs in the training text: (L - n + 1,) for
        ids (L,). A 0 marks an n-gram the model has never seen."""
        if not self.orders:
            raise RuntimeError("call fit before asking for counts")
        windows = np.lib.stride_tricks.sliding_window_view(np.asarray(ids, dtype=np.int64), self.n)
        prefix_rank = self._rank(windows[:, :-1])
        codes = np.where(prefix_rank >= 0, prefix_rank * self.vocab_size + windows[:, -1], -1)
        top = self.orders[-1]  # raw counts: only the lower orders hold continuation counts
        return top.count(codes)

    def cross_entropy(self, ids) -> float:
        """Mean negative log-probability per token, in nats, of a held-out stream."""
        return float(-np.mean(np.log(self.token_probabilities(ids))))

    def perplexity(self, ids) -> float:
        """exp(cross-entropy): the model is as unsure as a uniform choice among this many tokens."""
        return float(np.exp(self.cross_entropy(ids)))

    @property
    def num_contexts(self) -> int:
        """Number of distinct (n - 1)-token contexts seen in training (raw counts, not continuation
        counts)."""
        return len(self.orders[-1].context_codes) if self.n > 1 else 1

    @property
    def num_ngrams(self) -> int:
        """The number of distinct n-grams seen in training, i.e. the size of the model's table."""
        return len(self.orders[-1].codes)


def ngram_perplexities(
    train_ids, test_ids, vocab_size: int, orders=(1, 2, 3, 4, 5), smoothing: str = "kneser_ney", **kwargs
) -> list[dict]:
    """Fit one n-gram model per order and measure its held-out perplexity (chapter *Sequences and language models*'s
    table).

    Parameters
    ----------
    train_ids, test_ids : ndarray, shapes (L_train,) and (L_test,)
        1-D integer token streams
    vocab_size
        V
    orders
        the values of n to try
    smoothing, **kwargs
        passed to NGramLM

    Returns
    -------
    rows
        one dict per order with keys "n", "perplexity" (on test_ids), "train_perplexity",
        "num_contexts" (distinct (n-1)-token contexts seen in training), "num_ngrams" (distinct n-grams seen)
        and "possible_contexts" (V ** (n - 1), how many contexts there could be)
    """
    rows = []
    for n in orders:
        model = NGramLM(n, vocab_size, smoothing=smoothing, **kwargs).fit(train_ids)
        rows.append(
            {
                "n": n,
                "perplexity": model.perplexity(test_ids),
                "train_perplexity": model.perplexity(train_ids),
                "num_contexts": model.num_contexts,
                "num_ngrams": model.num_ngrams,
                "possible_contexts": vocab_size ** (n - 1),
            }
        )
    return rows
