"""A vocabulary: the table between tokens (characters, words, tags) and the integer indices a model sees.

Explained in the chapter *Sequences and language models* (1-of-N encoding, the "other" bucket ``<unk>``) and used by
every chapter that trains on text. Index order is fixed and reproducible: the reserved tokens first, then the kept
tokens by decreasing count, ties broken by the token itself, so the same corpus always gives the same indices.
"""

from __future__ import annotations

import collections
import json
import pathlib
from collections.abc import Iterable, Sequence

import numpy as np

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
RESERVED_TOKENS = (PAD, UNK, BOS, EOS)


class Vocab:
    """Tokens <-> indices, built from a token stream with a minimum frequency.

    Parameters
    ----------
    tokens : iterable of str
        the tokens (any strings), e.g. ``list("人民日报")`` or a list of words
    min_freq : int
        tokens seen fewer times than this are left out and encoded as ``<unk>``
    max_size : int or None
        keep at most this many non-reserved tokens (the most frequent), or None for no limit
    reserved : sequence of str
        tokens that get the first indices whatever their counts. The default gives
        ``<pad>`` = 0 (padding of short sequences in a batch), ``<unk>`` = 1 (unknown or rare token),
        ``<bos>`` = 2 (beginning of sequence), ``<eos>`` = 3 (end of sequence). A tag vocabulary may want only
        ``(PAD,)``; without ``<unk>``, encoding an unknown token raises KeyError.

    Attributes
    ----------
    index_to_token : list of str
        list of tokens, position = index
    token_to_index : dict
        token -> index
    counts : Counter
        every token seen while building (also the ones left out)
    pad_index, unk_index, bos_index, eos_index : int or None
        indices of the reserved tokens, or None when not reserved
    """

    def __init__(
        self,
        tokens: Iterable[str] = (),
        min_freq: int = 1,
        max_size: int | None = None,
        reserved: Sequence[str] = RESERVED_TOKENS,
    ):
        if len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved tokens must be distinct, got {reserved}")
        self.min_freq = int(min_freq)
        self.reserved = tuple(reserved)
        self.counts = collections.Counter(tokens)
        kept = [
            (token, count)
            for token, count in self.counts.items()
            if count >= self.min_freq and token not in self.reserved
        ]
        kept.sort(key=lambda pair: (-pair[1], pair[0]))
        if max_size is not None:
            kept = kept[:max_size]
        self.index_to_token = list(self.reserved) + [token for token, _ in kept]
        self.token_to_index = {token: index for index, token in enumerate(self.index_to_token)}

    @classmethod
    def from_sequences(cls, sequences: Iterable[Iterable[str]], **kwargs) -> Vocab:
        """Build from a collection of sequences (sentences of characters or words): the counts of all of them.

        ``Vocab.from_sequences(["我们", "人民"])`` counts characters; keyword arguments go to the constructor.
        """
        return cls((token for sequence in sequences for token in sequence), **kwargs)

    def __len__(self) -> int:
        return len(self.index_to_token)

    def __contains__(self, token: str) -> bool:
        return token in self.token_to_index

    def __getitem__(self, token: str) -> int:
        """Index of one token; ``<unk>``'s index for a token not in the vocabulary (KeyError without
        ``<unk>``)."""
        index = self.token_to_index.get(token)
        if index is not None:
            return index
        if self.unk_index is None:
            raise KeyError(f"token {token!r} is not in the vocabulary and there is no {UNK} to map it to")
        return self.unk_index

    def __repr__(self) -> str:
        return f"Vocab(size={len(self)}, min_freq={self.min_freq}, reserved={self.reserved})"

    def _reserved_index(self, token: str) -> int | None:
        return self.token_to_index[token] if token in self.reserved else None

    @property
    def pad_index(self) -> int | None:
        return self._reserved_index(PAD)

    @property
    def unk_index(self) -> int | None:
        return self._reserved_index(UNK)

    @property
    def bos_index(self) -> int | None:
        return self._reserved_index(BOS)

    @property
    def eos_index(self) -> int | None:
        return self._reserved_index(EOS)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Tokens -> list of indices (unknown tokens -> ``<unk>``). ``vocab.encode("人民")`` encodes
        characters."""
        return [self[token] for token in tokens]

    def encode_stream(self, sequences: Iterable[Iterable[str]], eos: bool = True) -> np.ndarray:
        """Concatenate encoded sequences into one stream for a language model, each followed by ``<eos>``.

        Parameters
        ----------
        sequences
            e.g. sentences as strings of characters
        eos
            append the ``<eos>`` index after every sequence, so the model also learns where sentences end

        Returns
        -------
        stream
            int64 array, (sum of lengths [+ number of sequences],)
        """
        if eos and self.eos_index is None:
            raise ValueError(f"this vocabulary has no {EOS} token; pass eos=False")
        stream: list[int] = []
        for sequence in sequences:
            stream.extend(self.encode(sequence))
            if eos:
                stream.append(self.eos_index)
        return np.asarray(stream, dtype=np.int64)

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Indices (ints or a NumPy/torch integer array) -> list of tokens."""
        return [self.index_to_token[int(index)] for index in indices]

    def to_dict(self) -> dict:
        """Everything needed to rebuild this vocabulary exactly (JSON-serialisable)."""
        return {
            "index_to_token": self.index_to_token,
            "reserved": list(self.reserved),
            "min_freq": self.min_freq,
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, state: dict) -> Vocab:
        """Inverse of ``to_dict``: the same tokens at the same indices."""
        vocab = cls(reserved=state["reserved"], min_freq=state["min_freq"])
        vocab.counts = collections.Counter(state["counts"])
        vocab.index_to_token = list(state["index_to_token"])
        vocab.token_to_index = {token: index for index, token in enumerate(vocab.index_to_token)}
        return vocab

    def save(self, path) -> None:
        """Write the vocabulary to a UTF-8 JSON file (Chinese characters stay readable)."""
        pathlib.Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path) -> Vocab:
        """Read a vocabulary written by ``save``."""
        return cls.from_dict(json.loads(pathlib.Path(path).read_text(encoding="utf-8")))
