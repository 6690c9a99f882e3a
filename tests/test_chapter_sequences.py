"""Chapter 1 (book/01-sequences.md): its teaching code is right, and everything its prose refers to exists.

The chapter's functions are taken from the page itself (its import cell and every function definition), so a
change on the page is tested here, against values worked out by hand.
"""

import pathlib

import numpy as np
import pytest
from book_helpers import chapter_namespace

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "01-sequences.md"


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace(CHAPTER)


def test_perplexity(chapter):
    perplexity = chapter["perplexity"]
    assert perplexity(np.full(1000, 1 / 4040)) == pytest.approx(4040.0)  # uniform over V tokens: exactly V
    assert perplexity([0.1, 0.4]) == pytest.approx(5.0)  # (0.1 * 0.4) ** (-1/2)
    assert perplexity(np.full(100_000, 1e-4)) == pytest.approx(1e4)  # no underflow on long texts


def test_letter_trigrams(chapter):
    letter_trigrams = chapter["letter_trigrams"]
    assert letter_trigrams("apple") == ["#ap", "app", "ppl", "ple", "le#"]
    assert letter_trigrams("a") == ["#a#"]
    assert letter_trigrams("banana").count("ana") == 2


def test_one_hot(chapter):
    vectors = chapter["one_hot"](np.array([[2, 0], [1, 1]]), 3)
    assert vectors.shape == (2, 2, 3)
    np.testing.assert_array_equal(vectors[0], [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(vectors.sum(axis=-1), np.ones((2, 2)))
