"""Chapter 9 (book/09-classification.md): its teaching code is right, and what its prose refers to exists.

The chapter's functions are taken from the page itself (its import cell and every function definition), without
its experiments. Expected values come from hand-made cases and from the model's own packed forward pass, never from
the function under test.
"""

import ast
import pathlib
import re

import jupytext
import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace

from course_lib.data import Vocab
from course_lib.nn_torch.models import Classifier

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "09-classification.md"


@pytest.fixture(scope="module")
def chapter():
    namespace = chapter_namespace(CHAPTER)
    # The page's constants (UPPER_CASE names, such as the NEGATION pattern) are not experiments: run them too.
    for cell in jupytext.read(CHAPTER).cells[1:]:
        if cell.cell_type != "code":
            continue
        constants = [
            node
            for node in ast.parse(cell.source).body
            if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in node.targets)
        ]
        exec(compile(ast.Module(body=constants, type_ignores=[]), str(CHAPTER), "exec"), namespace)
    namespace["chars"] = Vocab(list("好不错但是差的了"))  # the page builds it from the training reviews
    return namespace


def test_paired_bootstrap(chapter):
    bootstrap = chapter["bootstrap_accuracies"]
    rng = np.random.default_rng(0)
    correct_a = rng.random(500) < 0.8
    resampled = bootstrap(correct_a, ~correct_a, num_resamples=300, seed=1)
    assert resampled.shape == (300, 3)
    # Paired: both models are scored on the same resampled examples, so their accuracies add up to one exactly.
    np.testing.assert_allclose(resampled[:, 0] + resampled[:, 1], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(resampled[:, 2], resampled[:, 0] - resampled[:, 1], rtol=0, atol=1e-12)
    # The resampled accuracies scatter around the real one with the binomial standard error.
    assert abs(resampled[:, 0].mean() - correct_a.mean()) < 0.01
    standard_error = np.sqrt(correct_a.mean() * (1 - correct_a.mean()) / 500)
    assert 0.7 * standard_error < resampled[:, 0].std() < 1.3 * standard_error
    same = bootstrap(correct_a, correct_a, num_resamples=50)
    assert np.all(same[:, 2] == 0)
    np.testing.assert_array_equal(
        bootstrap(correct_a, ~correct_a, 20, seed=3), bootstrap(correct_a, ~correct_a, 20, seed=3)
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("质量不好", True),
        ("不太满意", True),
        ("不是很好用", True),
        ("没怎么方便", True),
        ("真的不推荐", True),
        ("不错", False),
        ("很不错，推荐", False),
        ("质量很好", False),
        ("不错，但是不好用", True),
        ("没意思", False),
    ],
)
def test_negated_positive(chapter, text, expected):
    assert chapter["has_negated_positive"](text) is expected


def test_contrast(chapter):
    assert chapter["has_contrast"]("屏幕很好，但是电池不行")
    assert not chapter["has_contrast"]("屏幕很好，但电池不行")  # only 但是 is counted


def tiny_classifier(pooling="last"):
    torch.manual_seed(0)
    return Classifier(9, 2, embed_size=4, hidden_size=5, pooling=pooling).eval()


def test_last_column_reads_the_padding(chapter):
    model = tiny_classifier()
    inputs = np.array([[2, 3, 4, 5], [6, 7, 0, 0]])  # the second review is padded with <pad> = 0
    lengths = np.array([4, 2])
    with torch.no_grad():
        packed = model(torch.as_tensor(inputs), lengths)
    naive = chapter["last_column_logits"](model, inputs)
    assert naive.shape == (2, 2)
    # The longest review's last column is its real last state; the padded review's is not.
    torch.testing.assert_close(naive[0], packed[0], rtol=1e-5, atol=1e-6)
    assert (naive[1] - packed[1]).abs().max() > 1e-4
    # Without padding the two agree on every row.
    torch.testing.assert_close(
        chapter["last_column_logits"](model, inputs[:, :2]),
        model(torch.as_tensor(inputs[:, :2]), np.array([2, 2])),
        rtol=1e-5,
        atol=1e-6,
    )


def test_probability_after_padding_starts_at_the_real_answer(chapter):
    model = tiny_classifier()
    review = [2, 3, 4]
    curve = chapter["probability_after_padding"](model, review, 5)
    assert curve.shape == (6,) and np.all((curve > 0) & (curve < 1))
    with torch.no_grad():
        real = torch.softmax(model(torch.as_tensor([review]), np.array([3])), dim=-1)[0, 1].item()
    assert curve[0] == pytest.approx(real, rel=1e-5)
    with torch.no_grad():
        padded = torch.as_tensor([review + [0, 0]])
        two_pads = torch.softmax(model(padded, np.array([5])), dim=-1)[0, 1].item()
    assert curve[2] == pytest.approx(two_pads, rel=1e-5)


def test_predict_all_keeps_the_order_of_the_reviews(chapter):
    model = tiny_classifier("max")
    rng = np.random.default_rng(0)
    encoded = [list(rng.integers(1, 9, size=n)) for n in (3, 9, 1, 5, 7, 2, 4)]
    labels = np.zeros(len(encoded), dtype=np.int64)
    one_by_one = [int(model.predict(np.array([review]), np.array([len(review)]))[0]) for review in encoded]
    np.testing.assert_array_equal(chapter["predict_all"](model, encoded, labels, batch_size=3), one_by_one)


def test_what_the_page_refers_to_exists():
    text = CHAPTER.read_text(encoding="utf-8")
    assert text.count("(ch-classification)=") == 1
    assert "{ref}`ch-lstm`" not in text and "{ref}`ch-deep`" not in text  # those chapters are not merged yet
    bibliography = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    for key in set(re.findall(r"\{cite\}`([^`]+)`", text)):
        assert f"{{{key}," in bibliography, key
    for path in re.findall(r"<\.\./(exercises/[^>]+)>", text):
        assert (ROOT / path).is_file(), path
    assert "book/09-classification" in (ROOT / "_toc.yml").read_text(encoding="utf-8")
