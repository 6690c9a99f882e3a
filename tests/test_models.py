"""The task models of course_lib.nn_torch.models: padding never changes what a real sequence gets."""

import numpy as np
import pytest
import torch

from course_lib.data.batching import pad_sequences
from course_lib.nn_torch.models import CharLM, Classifier, Tagger


def _sequences(seed=0, vocab=20, lengths=(5, 2, 7, 1)):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(1, vocab, size=n)) for n in lengths]


def _one_by_one(model, sequences):
    """The model's output for every sequence run alone, with no padding at all."""
    return [model(torch.as_tensor([s]), [len(s)])[0] for s in sequences]


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_ignores_padding(pooling, bidirectional):
    torch.manual_seed(0)
    model = Classifier(20, 3, embed_size=8, hidden_size=6, bidirectional=bidirectional, pooling=pooling).eval()
    sequences = _sequences()
    padded = torch.as_tensor(pad_sequences(sequences)[0])
    wider = torch.nn.functional.pad(padded, (0, 4))  # four more padding columns
    alone = torch.stack(_one_by_one(model, sequences))
    lengths = [len(s) for s in sequences]
    with torch.no_grad():
        torch.testing.assert_close(model(padded, lengths), alone)
        torch.testing.assert_close(model(wider, lengths), alone)


def test_max_pooling_is_the_maximum_over_real_steps():
    torch.manual_seed(0)
    model = Classifier(20, 3, embed_size=8, hidden_size=6, pooling="max").eval()
    sequences = _sequences(seed=1)
    captured = {}
    model.output.register_forward_hook(lambda module, inputs, output: captured.update(pooled=inputs[0]))
    with torch.no_grad():
        model(torch.as_tensor(pad_sequences(sequences)[0]), [len(s) for s in sequences])
        for row, sequence in enumerate(sequences):
            outputs, _ = model.recurrent(model.embedding(torch.as_tensor([sequence])))
            torch.testing.assert_close(captured["pooled"][row], outputs[0].max(dim=0).values)
    # Outputs of an LSTM are in (-1, 1): a padding step read as 0 would win over all-negative features.
    assert (captured["pooled"] < 0).any()


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling"):
        Classifier(20, 3, pooling="sum")


@pytest.mark.parametrize("bidirectional", [False, True])
def test_tagger_ignores_padding(bidirectional):
    torch.manual_seed(0)
    model = Tagger(20, 4, embed_size=8, hidden_size=6, bidirectional=bidirectional).eval()
    sequences = _sequences(seed=2)
    padded = torch.as_tensor(pad_sequences(sequences)[0])
    with torch.no_grad():
        logits = model(padded, [len(s) for s in sequences])
        for row, alone in enumerate(_one_by_one(model, sequences)):
            torch.testing.assert_close(logits[row, : len(sequences[row])], alone)


def test_charlm_tied_weights_are_one_matrix_trained_by_both_uses():
    torch.manual_seed(0)
    model = CharLM(11, embed_size=6, hidden_size=6, cell="lstm", tie_weights=True)
    untied = CharLM(11, embed_size=6, hidden_size=6, cell="lstm")
    assert model.output.weight is model.embedding.weight
    count = sum(p.numel() for p in model.parameters())
    assert count == sum(p.numel() for p in untied.parameters()) - 11 * 6
    X = torch.tensor([[1, 2, 3]])
    loss, _, _ = model.loss((X, torch.tensor([[2, 3, 4]])))
    loss.backward()
    # Token 9 never appears as an input, so only the output use gives its row a gradient.
    assert model.embedding.weight.grad[9].abs().sum() > 0


def test_charlm_refuses_ties_it_cannot_make():
    with pytest.raises(ValueError, match="embed_size == hidden_size"):
        CharLM(11, embed_size=4, hidden_size=6, tie_weights=True)
    with pytest.raises(ValueError, match="one direction"):
        CharLM(11, embed_size=6, hidden_size=6, bidirectional=True, tie_weights=True)


def test_charlm_embedding_dropout_only_while_training():
    torch.manual_seed(0)
    model = CharLM(11, embed_size=6, hidden_size=6, cell="gru", embedding_dropout=0.5)
    X = torch.tensor([[1, 2, 3, 4]])
    model.eval()
    first, _ = model(X)
    second, _ = model(X)
    torch.testing.assert_close(first, second)
    model.train()
    torch.manual_seed(1)
    noisy, _ = model(X)
    assert not torch.allclose(noisy, first)
