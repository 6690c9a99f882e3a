"""Chapter 1 (book/01-sequences.md): its teaching code is right, and everything its prose refers to exists.

The chapter's functions are taken from the page itself (its import cell and every function definition), so a
change on the page is tested here, against values worked out by hand.
"""

import ast
import pathlib
import re

import jupytext
import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "01-sequences.md"


def chapter_namespace():
    """Run the chapter's import cell and every function definition of the page; return their namespace.

    Only the ``def`` statements of the other cells are run (picked with ``ast``), not the experiments.
    """
    cells = [c for c in jupytext.read(CHAPTER).cells if c.cell_type == "code"]
    namespace = {}
    exec(cells[0].source, namespace)
    for cell in cells[1:]:
        definitions = [node for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
        exec(compile(ast.Module(body=definitions, type_ignores=[]), str(CHAPTER), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def chapter():
    return chapter_namespace()


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


def test_ngram_codes_are_one_code_per_window(chapter):
    chapter["V"] = 10  # the page sets V to its vocabulary size before using ngram_codes
    codes = chapter["ngram_codes"](np.array([1, 2, 3, 4]), 3)
    np.testing.assert_array_equal(codes, [123, 234])  # base-10 digits of the windows (1 2 3) and (2 3 4)


def test_every_glue_citation_and_reference_of_the_page_exists():
    text = CHAPTER.read_text(encoding="utf-8")
    glued = set(re.findall(r'glue\("([^"]+)"', text))
    used = set(re.findall(r"\{glue:text\}`([^`:]+)", text))
    used |= set(re.findall(r"^```\{glue:figure\} (\S+)", text, re.M))
    assert used <= glued, f"pasted but never glued: {sorted(used - glued)}"
    for spec in re.findall(r"\{glue:text\}`[^`:]+:([^`]+)`", text):
        example = 1.5 if spec[-1] in "eEfFgG%" else 1
        format(example, spec)  # a typo such as ".1f}" would make the -W build fail
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    cited = {k.strip() for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text) for k in group.split(",")}
    assert cited <= keys, f"missing from references.bib: {sorted(cited - keys)}"
    pages = [page.read_text(encoding="utf-8") for page in (ROOT / "book").glob("*.md")]
    labels = {label for page in pages for label in re.findall(r"^\(([\w-]+)\)=", page, re.M)}
    refs = set(re.findall(r"\{ref\}`([^`<]+)`", text))
    assert refs <= labels, f"unknown labels: {sorted(refs - labels)}"
    figures = set(re.findall(r"^:name: (\S+)", text, re.M))
    numrefs = set(re.findall(r"\{numref\}`([^`<]+)`", text))
    assert numrefs <= figures, f"numref to a figure the page does not name: {sorted(numrefs - figures)}"
    for target in re.findall(r"\{download\}`[^<`]*<([^>]+)>`", text):
        assert (CHAPTER.parent / target).resolve().is_file(), target

