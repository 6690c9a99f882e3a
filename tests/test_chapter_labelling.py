"""Chapter 8 (book/08-labelling.md): its teaching code is right.

The functions and the feedforward tagger are taken from the page itself (its import cell and every definition), so a
change on the page is tested here. Expected values come from independent computations: each sequence run alone,
hand-counted examples, or properties any correct version must have.
"""

import pathlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from book_helpers import chapter_namespace
from torch import nn

from course_lib.nn_torch.models import Tagger

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "08-labelling.md"


@pytest.fixture(scope="module")
def chapter():
    threads = torch.get_num_threads()
    namespace = chapter_namespace(CHAPTER, classes=True)
    torch.set_num_threads(threads)  # the page's import cell sets one thread: do not impose that on other tests
    return namespace


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU])
def test_packing_makes_a_padded_sequence_behave_as_if_alone(chapter, cell):
    torch.manual_seed(1)
    layer = cell(3, 5, batch_first=True, bidirectional=True)
    short, long = torch.randn(1, 3, 3), torch.randn(1, 7, 3)
    batch = torch.cat([torch.cat([short, torch.zeros(1, 4, 3)], dim=1), long])
    with torch.no_grad():
        alone = layer(short)[0][0]
        packed = chapter["bidirectional_outputs"](layer, batch, [3, 7], packed=True)
        padded = chapter["bidirectional_outputs"](layer, batch, [3, 7], packed=False)
    np.testing.assert_allclose(packed[0, :3].numpy(), alone.numpy(), atol=1e-6)
    np.testing.assert_allclose(packed[1].numpy(), layer(long)[0][0].detach().numpy(), atol=1e-6)
    assert torch.all(packed[0, 3:] == 0)  # padding positions come back as zeros
    # without packing the left-to-right half is still right, the right-to-left half is not
    np.testing.assert_allclose(padded[0, :3, :5].numpy(), alone[:, :5].numpy(), atol=1e-6)
    assert (padded[0, :3, 5:] - alone[:, 5:]).abs().max() > 1e-3


def test_equal_length_batches(chapter):
    rng = np.random.default_rng(0)
    inputs = [list(rng.integers(1, 50, size=int(n))) for n in rng.integers(1, 6, size=40)]
    targets = [[x % 7 for x in sequence] for sequence in inputs]
    batches = list(chapter["equal_length_batches"](inputs, targets, batch_size=4, seed=3))
    seen = []
    for batch in batches:
        N, T = batch["inputs"].shape
        assert N <= 4 and batch["targets"].shape == (N, T)
        assert np.all(batch["lengths"] == T) and batch["mask"].all()  # no padding at all
        seen += [(tuple(x), tuple(y)) for x, y in zip(batch["inputs"].tolist(), batch["targets"].tolist(), strict=True)]
    # each (input, target) pair exactly once
    assert sorted(seen) == sorted((tuple(x), tuple(y)) for x, y in zip(inputs, targets, strict=True))
    again = list(chapter["equal_length_batches"](inputs, targets, batch_size=4, seed=3))
    other = list(chapter["equal_length_batches"](inputs, targets, batch_size=4, seed=4))
    assert all(np.array_equal(a["inputs"], b["inputs"]) for a, b in zip(batches, again, strict=True))
    assert not all(np.array_equal(a["inputs"], b["inputs"]) for a, b in zip(batches, other, strict=True))


def test_predict_tags_keeps_the_input_order_and_matches_one_sequence_at_a_time(chapter):
    torch.manual_seed(0)
    model = Tagger(30, 5, embed_size=8, hidden_size=6, bidirectional=True)
    rng = np.random.default_rng(1)
    inputs = [list(rng.integers(1, 30, size=int(n))) for n in (5, 2, 9, 1, 4)]
    predictions = chapter["predict_tags"](model, inputs, batch_size=2)
    for sequence, predicted in zip(inputs, predictions, strict=True):
        with torch.no_grad():
            alone = model(torch.tensor([sequence]), [len(sequence)])[0].argmax(-1).numpy()
        np.testing.assert_array_equal(predicted, alone)


def test_window_tagger_sees_exactly_its_window(chapter):
    torch.manual_seed(0)
    for window in (0, 2):
        model = chapter["WindowTagger"](20, 4, embed_size=5, hidden_size=6, window=window).eval()
        X = torch.tensor([[3, 4, 5, 6, 7, 8, 9, 10]])
        base = model(X, [8])[0, 2].detach()
        for position in range(8):
            changed = X.clone()
            changed[0, position] = 15
            moved = (model(changed, [8])[0, 2].detach() - base).abs().max().item()
            assert (moved > 0) == (abs(position - 2) <= window), (window, position)


def test_masked_loss_ignores_padding(chapter):
    """Tagger.loss (which WindowTagger shares) on a padded batch = the token-weighted mean of each sequence alone."""
    torch.manual_seed(0)
    for model in (chapter["WindowTagger"](20, 4, window=1), Tagger(20, 4, 6, 5, bidirectional=True)):
        model.eval()
        sequences = [[3, 4, 5, 6, 7], [8, 9]]
        labels = [[0, 1, 2, 3, 1], [2, 2]]
        X = np.array([[3, 4, 5, 6, 7], [8, 9, 0, 0, 0]])
        Y = np.array([[0, 1, 2, 3, 1], [2, 2, 0, 0, 0]])
        batch = {"inputs": X, "lengths": np.array([5, 2]), "mask": X > 0, "targets": Y}
        loss, count, _ = model.loss(batch)
        total = 0.0
        for x, y in zip(sequences, labels, strict=True):
            logits = model(torch.tensor([x]), [len(x)])[0]
            total += F.cross_entropy(logits, torch.tensor(y), reduction="sum").item()
        assert count == 7
        assert loss.item() == pytest.approx(total / 7, rel=1e-5)


def test_clauses_cut_after_clause_punctuation(chapter):
    sentence = [
        ("我们", "r"),
        ("来", "v"),
        ("，", "w"),
        ("他们", "r"),
        ("走", "v"),
        ("。", "w"),
        ("（", "w"),
        ("完", "v"),
    ]
    pieces = chapter["clauses"]([sentence, [("好", "a")]])
    assert pieces == [sentence[:3], sentence[3:6], sentence[6:], [("好", "a")]]


def test_accuracy_known_unknown(chapter):
    scores = chapter["accuracy_known_unknown"]([1, 2, 3, 4, 5], [1, 2, 0, 4, 0], [True, True, True, False, False])
    assert scores["accuracy"] == pytest.approx(3 / 5)
    assert scores["known"] == pytest.approx(2 / 3)
    assert scores["unknown"] == pytest.approx(1 / 2)


def test_bootstrap_difference(chapter):
    bootstrap = chapter["bootstrap_difference"]
    sentence_of_token = np.repeat(np.arange(50), 4)
    ones, zeros = np.ones(200, dtype=bool), np.zeros(200, dtype=bool)
    assert bootstrap(ones, zeros, sentence_of_token) == pytest.approx((1.0, 1.0))
    assert bootstrap(ones, ones, sentence_of_token) == pytest.approx((0.0, 0.0))
    rng = np.random.default_rng(0)
    a, b = rng.random(200) < 0.8, rng.random(200) < 0.6
    low, high = bootstrap(a, b, sentence_of_token)
    assert low < a.mean() - b.mean() < high
    # about 0.2 +- 2 standard errors of a difference of two proportions over 200 tokens
    assert 0.05 < high - low < 0.35
