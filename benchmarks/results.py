"""Train each reference model on each task within a CPU time budget and print held-out results beside the
baselines, in one Markdown table.

    python benchmarks/results.py                      # everything: about 30 minutes on 2 cores
    python benchmarks/results.py --tasks lm,adding    # some tasks only
    python benchmarks/results.py --budget 20          # a quick smoke run (numbers then mean little)

Every number is measured on a test split that no model (nor any choice of n, learning rate or epoch) has seen:
models are selected on the validation split (early stopping keeps the best validation epoch) and scored once
on the test split. Seeds are fixed.

The budget is CPU time per model: each model trains in its own process on one thread, two models side by side
(--jobs 2), so --budget 360 is what 3 minutes of a 2-core machine give each model. CPU time does not depend on
how busy the machine is, but an oversubscribed machine still slows memory-bound code down: run it on an
otherwise idle one. Small recurrent networks use one thread far better than two (their matrix products are too
small to split), which is why the models run side by side rather than one after the other on two threads.
Where the CPU (or GPU) computes in bfloat16 natively, the language models train under bfloat16 autocast
(--bfloat16 auto), about 1.5 times more steps in the same time.

Tasks (see DESIGN §4 and issue 4):
- lm         character LM on People's Daily: RNN, GRU, LSTM test perplexity vs the best Kneser-Ney n-gram, and each
             network interpolated with that n-gram (weight chosen on validation; book chapter 4)
- pos        POS tagging of People's Daily: BiLSTM vs the most-frequent-tag baseline (token accuracy)
- sentiment  product reviews: LSTM vs character 1-3-gram TF-IDF logistic regression, C tuned on validation
             (accuracy)
- slots      slot filling: uni- vs bidirectional LSTM, cue word before vs after the city (slot F1, and the
             accuracy on city tokens, where only the cue tells arrival from departure)
- adding     adding problem, T = 100 and 200: RNN, LSTM, GRU test MSE vs 1/6 (always answering 1)
- lmreg      the character LM again, with one larger regularised LSTM (512 units, dropout, output tied to the
             embedding) aimed at beating the n-gram alone; not in the default run: give it a longer --budget
"""

from __future__ import annotations

import argparse
import datetime
import functools
import math
import multiprocessing
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone without installing

from course_lib.baselines import MostFrequentTagTagger, ngram_perplexities, tune_tfidf_logistic_regression  # noqa: E402
from course_lib.baselines.ngram import NGramLM  # noqa: E402
from course_lib.data import corpora, synthetic  # noqa: E402
from course_lib.data.batching import lm_sequential_batches, padded_batches  # noqa: E402
from course_lib.data.vocab import PAD, UNK, Vocab  # noqa: E402
from course_lib.nn_torch.models import CharLM, Classifier, SequenceRegressor, Tagger  # noqa: E402
from course_lib.train import (  # noqa: E402
    bfloat16_is_fast,
    choose_device,
    evaluate_torch,
    perplexity,
    slot_f1,
    token_accuracy,
    train_torch,
)

# Budgets and timings are CPU seconds of the process that trains the model, so the amount of training does not
# depend on how many other processes share the machine.
CLOCK = time.process_time


def row(task, model, metric, value, seconds, note="", baseline=False) -> dict:
    """One line of the results table (echoed as soon as it is measured). The baseline row of a task gives the
    baseline columns of the task's other rows."""
    print(f"  {task:<26} {model:<28} {metric} = {value:.4g}   {seconds:.0f} CPU s  {note}", flush=True)
    return {
        "task": task,
        "model": model,
        "metric": metric,
        "value": value,
        "seconds": seconds,
        "note": note,
        "is_baseline": baseline,
    }


# --------------------------------------------------------------------------------------------- language model

LM_TASK = "char LM (People's Daily)"
LM_LEARNING_RATE = {"rnn": 2e-3, "gru": 5e-3, "lstm": 5e-3}  # tuned for the gated cells only


@functools.cache
def lm_data():
    train, val, test = corpora.split_dataset(corpora.people_daily_text(), seed=0)
    vocab = Vocab.from_sequences(train, min_freq=2)
    return vocab, *(vocab.encode_stream(part) for part in (train, val, test))


@functools.cache
def lm_best_order():
    """The order n of the Kneser-Ney model with the lowest validation perplexity."""
    vocab, train_ids, val_ids, _ = lm_data()
    val_rows = ngram_perplexities(train_ids, val_ids, len(vocab), orders=(1, 2, 3, 4, 5, 6, 7))  # as chapter 1
    return min(val_rows, key=lambda r: r["perplexity"])["n"]


def lm_baseline(budget, device, bfloat16):
    vocab, train_ids, val_ids, test_ids = lm_data()
    started = CLOCK()
    best_n = lm_best_order()  # n chosen on validation
    test_ppl = ngram_perplexities(train_ids, test_ids, len(vocab), orders=(best_n,))[0]["perplexity"]
    return [row(LM_TASK, f"Kneser-Ney {best_n}-gram", "test perplexity", test_ppl, CLOCK() - started, baseline=True)]


def lm_model(budget, device, bfloat16, cell):
    vocab = lm_data()[0]
    torch.manual_seed(0)
    model = CharLM(len(vocab), embed_size=128, hidden_size=256, cell=cell).to(device)
    return train_and_score_lm(model, f"{cell.upper()} 256", LM_LEARNING_RATE[cell], budget, bfloat16)


# The regularised model of the "lmreg" task: larger, dropout on its inputs and outputs, output layer tied to the
# embedding (which also saves V * H parameters). Run it on its own with a longer budget:
#     python benchmarks/results.py --tasks lmreg --budget 2400 --jobs 1
LM_REGULARISED = {
    "cell": "lstm",
    "embed_size": 512,
    "hidden_size": 512,
    "dropout": 0.3,
    "embedding_dropout": 0.1,
    "tie_weights": True,
}
LM_REGULARISED_LEARNING_RATE = 3e-3


def lm_regularised(budget, device, bfloat16):
    """The moonshot of chapter 4: one neural LM below the n-gram's held-out perplexity, by regularising a larger
    LSTM rather than training a small one longer."""
    vocab = lm_data()[0]
    torch.manual_seed(0)
    model = CharLM(len(vocab), **LM_REGULARISED).to(device)
    name = f"LSTM {LM_REGULARISED['hidden_size']}, dropout {LM_REGULARISED['dropout']}, tied"
    return train_and_score_lm(model, name, LM_REGULARISED_LEARNING_RATE, budget, bfloat16)


def train_and_score_lm(model, name, lr, budget, bfloat16):
    """Train a CharLM on People's Daily within the budget, keep its best validation epoch, and return its rows:
    test perplexity alone and interpolated with the best Kneser-Ney n-gram."""
    _, train_ids, val_ids, test_ids = lm_data()
    # Evaluation: sequential rows from offset 0, state carried, so (nearly) every held-out token is predicted
    # with all the text before it, as the n-gram model predicts it with its n - 1 predecessors.
    val_batches = list(lm_sequential_batches(val_ids[:60_000], 16, 64, offset=0))
    test_batches = list(lm_sequential_batches(test_ids, 16, 64, offset=0))
    history = train_torch(
        model,
        lambda epoch: lm_sequential_batches(train_ids, 32, 64, seed=epoch),
        val_batches,
        epochs=1000,
        lr=lr,
        lr_decay=0.8,
        clip_norm=1.0,
        carry_state=True,
        max_seconds=budget,
        progress=False,
        clock=CLOCK,
        desc=name,
        bfloat16=bfloat16,
    )
    test_ppl = perplexity(evaluate_torch(model, test_batches, carry_state=True))
    # The last epoch's training perplexity (over the text it revisits, dropout on), to compare with the held-out one.
    train_ppl = perplexity(history["train_loss"][-1])
    started = CLOCK()
    mixed_ppl, weight, best_n = lm_interpolated(model, *lm_data())
    return [
        row(
            LM_TASK,
            name,
            "test perplexity",
            test_ppl,
            history["seconds"][-1],
            f"{history['steps']} steps of 32x64 chars{', bfloat16' if bfloat16 else ''}, "
            f"training perplexity {train_ppl:.1f} in the last epoch",
        ),
        row(
            LM_TASK,
            f"{name} + Kneser-Ney {best_n}-gram",
            "test perplexity",
            mixed_ppl,
            history["seconds"][-1] + CLOCK() - started,
            f"interpolated, weight {weight:.2f} on the network chosen on validation",
        ),
    ]


@torch.no_grad()
def held_out_probabilities(model, ids, rows=16, chunk=128):
    """Probability a CharLM gives each token of a held-out stream read as `rows` rows, the state carried along
    each row (book chapter 4, ``model_token_probabilities``).

    Returns (probabilities, positions): probabilities[i] is the model's probability of ids[positions[i]];
    positions = 1 .. rows * ((len(ids) - 1) // rows).
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    length = (len(ids) - 1) // rows
    X = torch.as_tensor(ids[: rows * length].reshape(rows, length), device=device)
    Y = torch.as_tensor(ids[1 : rows * length + 1].reshape(rows, length), device=device)
    log_p = torch.empty(rows, length, device=device)
    state = None
    for start in range(0, length, chunk):
        logits, state = model(X[:, start : start + chunk], state)  # (rows, chunk, V)
        window = Y[:, start : start + chunk]
        nll = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), window.reshape(-1), reduction="none"
        )
        log_p[:, start : start + chunk] = -nll.reshape(window.shape)
    model.train(was_training)
    return np.exp(log_p.double().cpu().numpy().reshape(-1)), np.arange(1, rows * length + 1)


def interpolation_weight(p_model, p_ngram, grid=None) -> float:
    """The weight w of p = w p_model + (1 - w) p_ngram with the lowest perplexity on these (validation) tokens,
    from grid (default 0, 0.01, ..., 1)."""
    grid = np.linspace(0.0, 1.0, 101) if grid is None else grid
    cross_entropies = [-np.mean(np.log(w * p_model + (1 - w) * p_ngram)) for w in grid]
    return float(grid[int(np.argmin(cross_entropies))])


def lm_interpolated(model, vocab, train_ids, val_ids, test_ids):
    """Test perplexity of the network interpolated with the best Kneser-Ney n-gram, the weight chosen on the
    validation split. Returns (test perplexity, weight, n)."""
    best_n = lm_best_order()
    ngram = NGramLM(best_n, len(vocab)).fit(train_ids)
    p_val, val_positions = held_out_probabilities(model, val_ids)
    weight = interpolation_weight(p_val, ngram.token_probabilities(val_ids)[val_positions])
    p_test, test_positions = held_out_probabilities(model, test_ids)
    mixed = weight * p_test + (1 - weight) * ngram.token_probabilities(test_ids)[test_positions]
    return perplexity(-np.mean(np.log(mixed))), weight, best_n


# --------------------------------------------------------------------------------------------- POS tagging

POS_TASK = "POS tagging"


@functools.cache
def pos_data():
    return corpora.split_dataset(corpora.people_daily_tagged(), seed=0)


def pos_baseline(budget, device, bfloat16):
    train, _, test = pos_data()
    started = CLOCK()
    accuracy = MostFrequentTagTagger().fit(train).accuracy(test)["accuracy"]
    return [row(POS_TASK, "most frequent tag", "test token accuracy", accuracy, CLOCK() - started, baseline=True)]


def pos_model(budget, device, bfloat16):
    train, val, test = pos_data()
    words = Vocab.from_sequences([[w for w, _ in s] for s in train], min_freq=2)
    tags = Vocab.from_sequences([[t for _, t in s] for s in train], reserved=(PAD, UNK))

    def encode(part):
        return [words.encode(w for w, _ in s) for s in part], [tags.encode(t for _, t in s) for s in part]

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = encode(train), encode(val), encode(test)
    torch.manual_seed(0)
    model = Tagger(len(words), len(tags), embed_size=100, hidden_size=128, bidirectional=True, dropout=0.2).to(device)
    history = train_torch(
        model,
        lambda e: padded_batches(train_x, train_y, 32, seed=e),
        list(padded_batches(val_x, val_y, 128, shuffle=False)),
        epochs=1000,
        lr=1e-2,
        clip_norm=5.0,
        patience=3,
        max_seconds=budget,
        progress=False,
        clock=CLOCK,
        desc="pos",
    )
    correct = total = 0
    for batch in padded_batches(test_x, test_y, 256, shuffle=False):
        predicted = model.predict(batch["inputs"], batch["lengths"])
        correct += token_accuracy(predicted, batch["targets"], batch["mask"]) * batch["mask"].sum()
        total += batch["mask"].sum()
    return [
        row(
            POS_TASK,
            "BiLSTM 2x128",
            "test token accuracy",
            correct / total,
            history["seconds"][-1],
            f"{len(history['epoch'])} epochs",
        )
    ]


# --------------------------------------------------------------------------------------------- sentiment

SENTIMENT_TASK = "sentiment (reviews)"
MAX_CHARS = 200  # reviews are cut to their first 200 characters (97% of the training reviews are shorter)


@functools.cache
def sentiment_data():
    return corpora.split_dataset(corpora.product_reviews(), seed=0)


def _texts(part):
    return [text for text, _ in part]


def _labels(part):
    return [label for _, label in part]


def sentiment_baseline(budget, device, bfloat16):
    """The tuned baseline of chapter 9: character 1-3-gram TF-IDF logistic regression, C chosen on validation.
    It reads whole reviews (the LSTM reads their first MAX_CHARS characters)."""
    train, val, test = sentiment_data()
    started = CLOCK()
    model, _ = tune_tfidf_logistic_regression(_texts(train), _labels(train), _texts(val), _labels(val))
    return [
        row(
            SENTIMENT_TASK,
            "TF-IDF char 1-3-grams + LR",
            "test accuracy",
            model.accuracy(_texts(test), _labels(test)),
            CLOCK() - started,
            f"C = {model.C:g} chosen on validation",
            baseline=True,
        )
    ]


def sentiment_model(budget, device, bfloat16):
    train, val, test = sentiment_data()
    chars = Vocab.from_sequences(_texts(train), min_freq=2)
    encode = lambda part: [chars.encode(t[:MAX_CHARS]) for t in _texts(part)]
    torch.manual_seed(0)
    model = Classifier(len(chars), 2, embed_size=64, hidden_size=128, pooling="max", dropout=0.3).to(device)
    history = train_torch(
        model,
        lambda e: padded_batches(encode(train), _labels(train), 32, seed=e),
        list(padded_batches(encode(val), _labels(val), 128, shuffle=False)),
        epochs=1000,
        lr=3e-3,
        clip_norm=5.0,
        patience=3,
        max_seconds=budget,
        progress=False,
        clock=CLOCK,
        desc="sentiment",
    )
    correct = 0
    for batch in padded_batches(encode(test), _labels(test), 256, shuffle=False):
        correct += int(np.sum(model.predict(batch["inputs"], batch["lengths"]) == batch["targets"]))
    return [
        row(
            SENTIMENT_TASK,
            "LSTM 128, max over states",
            "test accuracy",
            correct / len(test),
            history["seconds"][-1],
            f"{len(history['epoch'])} epochs, first {MAX_CHARS} chars",
        )
    ]


# --------------------------------------------------------------------------------------------- slot filling


def slots(budget, device, bfloat16, cue_position):
    """The most-frequent-label baseline, then a uni- and a bidirectional LSTM, each with a quarter of the budget
    (they stop early: the task is small)."""
    task = f"slot filling, cue {cue_position}"
    parts = [synthetic.slot_filling(n, cue_position, seed=s) for n, s in ((3000, 0), (500, 1), (1000, 2))]
    words = Vocab.from_sequences([t for t, _ in parts[0]])
    # Baseline: each word gets its most frequent training label; a city then gets the slot it had most often,
    # whatever the cue, so it is right about half the time.
    tagger = MostFrequentTagTagger().fit([list(zip(t, lab, strict=True)) for t, lab in parts[0]])
    baseline_f1 = slot_f1([tagger.predict(t) for t, _ in parts[2]], [lab for _, lab in parts[2]])["f1"]
    rows = [row(task, "most frequent label", "test slot F1", baseline_f1, 0.0, baseline=True)]
    labels = Vocab([], reserved=(PAD, *synthetic.SLOT_LABELS))
    encoded = [([words.encode(t) for t, _ in p], [labels.encode(lab) for _, lab in p]) for p in parts]
    for bidirectional in (False, True):
        torch.manual_seed(0)
        model = Tagger(len(words), len(labels), embed_size=32, hidden_size=64, bidirectional=bidirectional).to(device)
        history = train_torch(
            model,
            lambda e, x=encoded[0]: padded_batches(*x, 32, seed=e),
            list(padded_batches(*encoded[1], 256, shuffle=False)),
            epochs=1000,
            lr=5e-3,
            patience=4,
            max_seconds=budget / 4,
            progress=False,
            clock=CLOCK,
            desc="slots",
        )
        predicted_sequences, gold_sequences, city_correct = [], [], []
        for batch in padded_batches(*encoded[2], 256, shuffle=False):
            predicted = model.predict(batch["inputs"], batch["lengths"])
            for row_index, length in enumerate(batch["lengths"]):
                gold = labels.decode(batch["targets"][row_index, :length])
                guess = labels.decode(predicted[row_index, :length])
                predicted_sequences.append(guess)
                gold_sequences.append(gold)
                city_correct += [
                    g == p for g, p in zip(gold, guess, strict=True) if g.endswith(("arrival", "departure"))
                ]
        f1 = slot_f1(predicted_sequences, gold_sequences)["f1"]
        name = ("bi" if bidirectional else "uni") + "directional LSTM 64"
        rows.append(
            row(
                task,
                name,
                "test slot F1",
                f1,
                history["seconds"][-1],
                f"city-token accuracy {np.mean(city_correct):.3f}",
            )
        )
    return rows


# --------------------------------------------------------------------------------------------- adding problem

ADDING_SHARE = 2 / 3  # each adding-problem model trains for 2/3 of the budget


def adding_baseline(budget, device, bfloat16, seq_len):
    return [
        row(
            f"adding problem, T = {seq_len}",
            "always 1",
            "test MSE",
            synthetic.ADDING_PROBLEM_BASELINE_MSE,
            0.0,
            baseline=True,
        )
    ]


def adding_model(budget, device, bfloat16, seq_len, cell):
    X_val, y_val = synthetic.adding_problem(1000, seq_len, seed=10_000)
    X_test, y_test = synthetic.adding_problem(2000, seq_len, seed=20_000)
    torch.manual_seed(0)
    model = SequenceRegressor(2, hidden_size=64, cell=cell).to(device)

    def fresh_batches(epoch):
        # New data every epoch (the generator is unlimited): 50 batches of 64.
        X, y = synthetic.adding_problem(50 * 64, seq_len, seed=epoch)
        return [(X[i : i + 64], y[i : i + 64]) for i in range(0, len(X), 64)]

    history = train_torch(
        model,
        fresh_batches,
        [(X_val, y_val)],
        epochs=100_000,
        lr=5e-3,
        clip_norm=1.0,
        max_seconds=budget * ADDING_SHARE,
        progress=False,
        clock=CLOCK,
        desc=f"adding {cell}",
    )
    mse = float(np.mean((model.predict(X_test) - y_test) ** 2))
    return [
        row(
            f"adding problem, T = {seq_len}",
            cell.upper() + " 64",
            "test MSE",
            mse,
            history["seconds"][-1],
            f"{history['steps']} steps of 64",
        )
    ]


# --------------------------------------------------------------------------------------------- the table

# Each task is a list of jobs (function, keyword arguments); a job trains one model or fits a task's baselines.
TASKS = {
    "slots": [(slots, {"cue_position": "before"}), (slots, {"cue_position": "after"})],
    "adding": [
        (f, {"seq_len": T, **extra})
        for T in (100, 200)
        for f, extra in [(adding_baseline, {})] + [(adding_model, {"cell": c}) for c in ("rnn", "lstm", "gru")]
    ],
    "pos": [(pos_baseline, {}), (pos_model, {})],
    "sentiment": [(sentiment_baseline, {}), (sentiment_model, {})],
    "lm": [(lm_baseline, {})] + [(lm_model, {"cell": c}) for c in ("rnn", "gru", "lstm")],
    "lmreg": [(lm_baseline, {}), (lm_regularised, {})],
}
DEFAULT_TASKS = [name for name in TASKS if name != "lmreg"]
# bfloat16 where it was measured to help (the 4,000-way softmax of the language models); the rest stay float32
USES_BFLOAT16 = {lm_model, lm_regularised}


def run_job(job, budget, device, bfloat16, threads):
    torch.set_num_threads(threads)
    function, kwargs = job
    return function(budget, device, bfloat16 and function in USES_BFLOAT16, **kwargs)


def markdown_table(rows) -> str:
    """The rows as a Markdown table, each beside the baseline of its task."""
    baselines = {r["task"]: r for r in rows if r["is_baseline"]}
    lines = [
        "| task | model | held-out metric | value | baseline | baseline value | CPU s | note |",
        "| --- | --- | --- | ---: | --- | ---: | ---: | --- |",
    ]
    for r in rows:
        base = baselines[r["task"]]
        lines.append(
            f"| {r['task']} | {r['model']} | {r['metric']} | {r['value']:.4g} | {base['model']} | "
            f"{base['value']:.4g} | {r['seconds']:.0f} | {r['note']} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--tasks",
        default=",".join(DEFAULT_TASKS),
        help=f"comma-separated, from {', '.join(TASKS)} (default: all but lmreg)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=360.0,
        help="CPU seconds of training per model (default 360: 3 minutes of a 2-core machine)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="models trained side by side (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per model (default 1)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument(
        "--bfloat16",
        choices=("auto", "on", "off"),
        default="auto",
        help="bfloat16 autocast for the language models (auto: where the hardware has it)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.tasks.split(",")) - set(TASKS)
    if unknown:
        parser.error(f"unknown tasks {sorted(unknown)}; choose from {', '.join(TASKS)}")
    device = choose_device(args.device)
    bfloat16 = args.bfloat16 == "on" or (args.bfloat16 == "auto" and bfloat16_is_fast(device))
    jobs = []
    for job in (job for name in args.tasks.split(",") for job in TASKS[name]):
        if job not in jobs:  # lm and lmreg share the n-gram baseline: measure it once
            jobs.append(job)
    started = time.perf_counter()
    settings = (args.budget, str(device), bfloat16, args.threads)
    if args.jobs == 1:
        results = [run_job(job, *settings) for job in jobs]
    else:
        # Fresh interpreters ("spawn"): forking a process whose PyTorch threads are running is unsafe.
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(run_job, jobs, *([value] * len(jobs) for value in settings)))
    print()
    print(
        f"Results of benchmarks/results.py, {datetime.date.today().isoformat()}, device {device}, "
        f"{args.jobs} models side by side on {args.threads} thread(s) each, {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), budget {args.budget:.0f} CPU s per model, "
        f"bfloat16 {'on' if bfloat16 else 'off'} for the language models, "
        f"total {math.ceil((time.perf_counter() - started) / 60)} min wall clock"
    )
    print()
    print(markdown_table([r for rows in results for r in rows]))


if __name__ == "__main__":
    main()
