"""Training loops and metrics: metrics against hand-worked cases; a short run on every task lowers the
held-out loss; early stopping restores the best epoch; the state is carried across sequential batches."""

import math

import numpy as np
import pytest
import torch

from course_lib.data import synthetic
from course_lib.data.batching import lm_sequential_batches, padded_batches, seq2seq_batches
from course_lib.data.corpora import people_daily_tagged, people_daily_text, product_reviews, split_dataset
from course_lib.data.vocab import PAD, Vocab
from course_lib.nn_torch.models import CharLM, Classifier, Seq2Seq, SequenceRegressor, Tagger
from course_lib.train import (
    bio_spans,
    choose_device,
    evaluate_torch,
    exact_match,
    mean_squared_error,
    perplexity,
    slot_f1,
    token_accuracy,
    train_numpy,
    train_torch,
)

torch.set_num_threads(1)


# ------------------------------------------------------------------------------------------------ metrics


def test_bio_spans_and_slot_f1_by_hand():
    gold = ["O", "B-arrival", "I-arrival", "O", "B-date", "I-date"]
    assert bio_spans(gold) == {("arrival", 1, 3), ("date", 4, 6)}
    assert bio_spans(["I-date", "I-date", "B-date"]) == {("date", 0, 2), ("date", 2, 3)}
    # Predicted: the city's span is one token short (wrong), the date is right, one extra span.
    predicted = ["B-departure", "B-arrival", "O", "O", "B-date", "I-date"]
    scores = slot_f1([predicted], [gold])
    assert scores["precision"] == pytest.approx(1 / 3) and scores["recall"] == pytest.approx(1 / 2)
    assert scores["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert slot_f1([gold], [gold])["f1"] == 1.0


def test_simple_metrics_by_hand():
    assert token_accuracy([[1, 2, 3]], [[1, 0, 3]]) == pytest.approx(2 / 3)
    assert token_accuracy([[1, 2, 3]], [[1, 0, 3]], mask=[[True, False, False]]) == 1.0
    assert exact_match([[1, 2], [3]], [[1, 2], [4]]) == 0.5
    assert mean_squared_error([1.0, 3.0], [0.0, 1.0]) == pytest.approx(2.5)
    assert perplexity(math.log(50)) == pytest.approx(50)


def test_the_numpy_loop_clips_and_steps_with_the_library_optimisers():
    params = {"w": np.zeros(2)}
    huge = {"w": np.array([300.0, 400.0])}  # norm 500

    def step(params, batch, state):
        return 1.0, {"w": huge["w"].copy()}, 1, None

    train_numpy(params, step, ["batch"], epochs=1, lr=1.0, optimizer="sgd", clip_norm=5.0, progress=False)
    # one SGD step of lr 1 along the clipped gradient: the norm of the step is 5 (PyTorch's rule: 5 / (500 + 1e-6))
    np.testing.assert_allclose(params["w"], -np.array([3.0, 4.0]) * 500 / (500 + 1e-6), rtol=1e-12)


def test_numpy_validation_needs_no_backward_pass():
    calls = {"step": 0, "val_step": 0}

    def step(params, batch, state):
        calls["step"] += 1
        return 0.5, {"w": np.zeros(1)}, 1, None

    def val_step(params, batch, state):
        calls["val_step"] += 1
        return 0.25, 1, None

    history = train_numpy({"w": np.zeros(1)}, step, ["a", "b"], ["v"], epochs=2, val_step=val_step, progress=False)
    assert calls == {"step": 4, "val_step": 2}
    assert history["val_loss"] == [0.25, 0.25]


def test_device_choice():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert choose_device().type == expected and choose_device("cpu").type == "cpu"


# ------------------------------------------------------------------------------------------------ NumPy loop


def _quadratic_step(target):
    def step(params, batch, state):
        difference = params["w"] - target
        return float(difference @ difference), {"w": 2 * difference}, 1, state

    return step


def test_numpy_loop_early_stopping_restores_the_best_epoch():
    # Training pulls w from 0 towards 1 (w = 0.5, 0.75, 0.875, ... with SGD, lr 0.25); validation prefers 0.5.
    params = {"w": np.zeros(1)}
    train_target, val_target = np.ones(1), np.full(1, 0.5)

    def step(params, batch, state):
        return _quadratic_step(train_target if batch == "train" else val_target)(params, batch, state)

    history = train_numpy(
        params, step, ["train"], ["val"], epochs=10, lr=0.25, optimizer="sgd", patience=2, progress=False
    )
    assert history["epoch"] == [1, 2, 3] and history["stopped_early"] and history["best_epoch"] == 1
    np.testing.assert_allclose(history["val_loss"], [0.0, 0.0625, 0.140625])
    np.testing.assert_allclose(params["w"], [0.5])


def test_numpy_logistic_regression_learns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X @ np.array([2.0, -1.0, 0.5]) > 0).astype(float)

    def step(params, batch, state):
        X_b, y_b = batch
        p = 1 / (1 + np.exp(-(X_b @ params["w"])))
        loss = -np.mean(y_b * np.log(p + 1e-12) + (1 - y_b) * np.log(1 - p + 1e-12))
        return loss, {"w": X_b.T @ (p - y_b) / len(y_b)}, len(y_b), state

    params = {"w": np.zeros(3)}
    history = train_numpy(
        params, step, [(X[:300], y[:300])], [(X[300:], y[300:])], epochs=30, lr=0.1, clip_norm=1.0, progress=False
    )
    assert history["val_loss"][-1] < 0.5 * math.log(2)


# ------------------------------------------------------------------------------------ PyTorch tasks


def _short_run(model, train, val, **kwargs):
    """Held-out loss before and after a short training run."""
    before = evaluate_torch(model, val)
    history = train_torch(model, train, val, progress=False, **kwargs)
    return before, min(history["val_loss"]), history


def test_char_lm_with_carried_state():
    train_text, val_text, _ = split_dataset(people_daily_text()[:600], seed=0)
    vocab = Vocab.from_sequences(train_text, min_freq=2)
    train_ids, val_ids = vocab.encode_stream(train_text), vocab.encode_stream(val_text)
    torch.manual_seed(0)
    model = CharLM(len(vocab), embed_size=32, hidden_size=64, cell="gru")
    val = list(lm_sequential_batches(val_ids, 8, 32))
    before, after, history = _short_run(
        model,
        lambda epoch: lm_sequential_batches(train_ids, 16, 32, seed=epoch),
        val,
        epochs=2,
        lr=3e-3,
        carry_state=True,
        clip_norm=1.0,
    )
    assert after < before - 0.5
    assert perplexity(after) < 0.5 * len(vocab)
    sample = model.generate(vocab.encode("中国"), 10, temperature=0.8)
    assert len(sample) == 12 and sample[:2] == vocab.encode("中国")


def test_pos_tagger():
    sentences = people_daily_tagged()[:700]
    train, val, _ = split_dataset(sentences, (0.8, 0.2, 0.0), seed=0)
    words = Vocab.from_sequences([[w for w, _ in s] for s in train], min_freq=2)
    # The tag set is part of the annotation scheme, so it is built from all sentences (a rare tag may be
    # missing from a small training part).
    tags = Vocab.from_sequences([[t for _, t in s] for s in sentences], reserved=(PAD,))

    def encode(part):
        return [words.encode(w for w, _ in s) for s in part], [tags.encode(t for _, t in s) for s in part]

    (train_x, train_y), (val_x, val_y) = encode(train), encode(val)
    torch.manual_seed(0)
    model = Tagger(len(words), len(tags), embed_size=32, hidden_size=32)
    val_batches = list(padded_batches(val_x, val_y, 64, shuffle=False))
    before, after, _ = _short_run(
        model, lambda e: padded_batches(train_x, train_y, 32, seed=e), val_batches, epochs=2, lr=1e-2
    )
    assert after < before - 1.0


def test_slot_filling_bidirectional_tagger_learns_cue_after_city():
    examples = synthetic.slot_filling(600, "after", seed=0)
    words = Vocab.from_sequences([t for t, _ in examples])
    labels = Vocab([], reserved=(PAD, *synthetic.SLOT_LABELS))
    xs = [words.encode(t) for t, _ in examples]
    ys = [labels.encode(lab) for _, lab in examples]
    torch.manual_seed(0)
    model = Tagger(len(words), len(labels), embed_size=16, hidden_size=32, bidirectional=True)
    val = list(padded_batches(xs[500:], ys[500:], 100, shuffle=False))
    before, after, _ = _short_run(
        model, lambda e: padded_batches(xs[:500], ys[:500], 25, seed=e), val, epochs=6, lr=1e-2
    )
    assert after < 0.3 * before
    batch = val[0]
    predicted = model.predict(batch["inputs"], batch["lengths"])
    assert token_accuracy(predicted, batch["targets"], batch["mask"]) > 0.9


def test_sentiment_classifier():
    reviews = product_reviews()
    rng = np.random.default_rng(0)
    chosen = [reviews[i] for i in rng.choice(len(reviews), 1200, replace=False)]
    train, val, _ = split_dataset(chosen, (0.75, 0.25, 0.0), seed=0)
    chars = Vocab.from_sequences([t for t, _ in train], min_freq=3)
    encode = lambda part: ([chars.encode(t[:100]) for t, _ in part], [label for _, label in part])
    (train_x, train_y), (val_x, val_y) = encode(train), encode(val)
    torch.manual_seed(0)
    model = Classifier(len(chars), 2, embed_size=32, hidden_size=32, pooling="mean")
    val_batches = list(padded_batches(val_x, val_y, 100, shuffle=False))
    before, after, _ = _short_run(
        model, lambda e: padded_batches(train_x, train_y, 32, seed=e), val_batches, epochs=3, lr=5e-3
    )
    assert after < before - 0.05


def test_adding_problem_regressor():
    X, y = synthetic.adding_problem(1200, seq_len=10, seed=0)
    torch.manual_seed(0)
    model = SequenceRegressor(2, hidden_size=32, cell="lstm")
    train = [(X[i : i + 50], y[i : i + 50]) for i in range(0, 1000, 50)]
    before, after, _ = _short_run(model, train, [(X[1000:], y[1000:])], epochs=15, lr=1e-2)
    assert after < synthetic.ADDING_PROBLEM_BASELINE_MSE < before
    assert after < 0.5 * synthetic.ADDING_PROBLEM_BASELINE_MSE


def test_copy_task_tagger():
    X, Y = synthetic.copy_task(600, seq_len=3, delay=4, num_symbols=4, seed=0)
    lengths = np.full(len(X), X.shape[1])
    mask = np.ones_like(X, dtype=bool)
    batch = lambda rows: {"inputs": X[rows], "targets": Y[rows], "lengths": lengths[rows], "mask": mask[rows]}
    torch.manual_seed(0)
    model = Tagger(6, 5, embed_size=8, hidden_size=32, bidirectional=False)
    train = [batch(slice(i, i + 50)) for i in range(0, 500, 50)]
    before, after, _ = _short_run(model, train, [batch(slice(500, 600))], epochs=10, lr=1e-2)
    assert after < before - 0.3


def test_seq2seq_dates():
    pairs = synthetic.chinese_dates(800, seed=0)
    source_vocab = Vocab.from_sequences([s for s, _ in pairs])
    target_vocab = Vocab.from_sequences([t for _, t in pairs])
    sources = [source_vocab.encode(s) for s, _ in pairs]
    targets = [target_vocab.encode(t) for _, t in pairs]
    torch.manual_seed(0)
    model = Seq2Seq(len(source_vocab), len(target_vocab), embed_size=16, hidden_size=64)
    val = list(seq2seq_batches(sources[700:], targets[700:], 100, shuffle=False))
    before, after, _ = _short_run(
        model, lambda e: seq2seq_batches(sources[:700], targets[:700], 32, seed=e), val, epochs=4, lr=1e-2
    )
    assert after < 0.6 * before
    decoded = model.greedy_decode(val[0]["inputs"], val[0]["lengths"], target_vocab.bos_index, 11)
    assert decoded.shape == (len(val[0]["indices"]), 11)


def test_torch_loop_carries_the_state_detached():
    weight = torch.nn.Parameter(torch.ones(1))
    model = torch.nn.Module()
    model.weight = weight
    received = []

    def step(model, batch, state):
        received.append(state)
        new_state = model.weight * batch  # part of the graph
        return (model.weight - batch) ** 2, 1, new_state

    train_torch(model, [1.0, 2.0, 3.0], epochs=1, carry_state=True, lr=0.0, step=step, progress=False)
    assert received[0] is None
    assert received[1] is not None and not received[1].requires_grad
    assert received[1].item() == pytest.approx(1.0) and received[2].item() == pytest.approx(2.0)
    received.clear()
    train_torch(model, [1.0, 2.0], epochs=1, carry_state=False, lr=0.0, step=step, progress=False)
    assert received == [None, None]


def test_learning_rate_decays_once_per_epoch():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    seen = []

    def step(model, batch, state):
        seen.append(optimizer.param_groups[0]["lr"])
        return model(torch.ones(1, 2)).pow(2).mean(), 1, None

    train_torch(model, [0, 1], epochs=3, optimizer=optimizer, lr_decay=0.5, step=step, progress=False)
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_bfloat16_autocasts_the_forward_pass_and_still_learns():
    X, y = synthetic.adding_problem(600, seq_len=8, seed=0)
    torch.manual_seed(0)
    model = SequenceRegressor(2, hidden_size=16, cell="gru")
    dtypes = {True: set(), False: set()}  # training?, dtypes a layer computes in inside the step

    def step(model, batch, state):
        dtypes[model.training].add(model.output(torch.zeros(1, 16)).dtype)
        return model.loss(batch, state)

    train = [(X[i : i + 50], y[i : i + 50]) for i in range(0, 500, 50)]
    before, after, _ = _short_run(model, train, [(X[500:], y[500:])], epochs=5, lr=1e-2, step=step, bfloat16=True)
    assert dtypes == {True: {torch.bfloat16}, False: {torch.float32}}  # validation stays float32
    assert model.output.weight.dtype == torch.float32  # the weights stay float32
    assert after < 0.5 * before
