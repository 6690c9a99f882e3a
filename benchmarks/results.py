"""Train each reference model on each task within a CPU time budget and print held-out results beside the
baselines, in one Markdown table.

    python benchmarks/results.py                      # everything, about 3 minutes per experiment
    python benchmarks/results.py --tasks lm,adding    # some tasks only
    python benchmarks/results.py --budget 20          # a quick smoke run (numbers then mean little)

Every number is measured on a test split that no model (nor any choice of n, learning rate or epoch) has seen:
models are selected on the validation split (early stopping keeps the best validation epoch) and scored once
on the test split. Seeds are fixed. The budget is CPU time: --budget 180 with --threads 2 gives each model
360 CPU seconds, what 3 minutes on two dedicated cores give; the "CPU s" column is measured the same way.
On an oversubscribed machine PyTorch's threads spend part of that CPU time waiting for each other, so fewer
optimizer steps fit in the budget (the "steps" notes show how many): run it on an otherwise idle machine.

Tasks (see DESIGN §4 and issue 4):
- lm         character LM on People's Daily: RNN, GRU, LSTM test perplexity vs the best Kneser-Ney n-gram
- pos        POS tagging of People's Daily: BiLSTM vs the most-frequent-tag baseline (token accuracy)
- sentiment  product reviews: LSTM vs bag-of-character-n-grams logistic regression (accuracy)
- slots      slot filling: uni- vs bidirectional LSTM, cue word before vs after the city (slot F1, and the
             accuracy on city tokens, where only the cue tells arrival from departure)
- adding     adding problem, T = 100 and 200: RNN, LSTM, GRU test MSE vs 1/6 (always answering 1)
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone without installing

from course_lib.baselines import BagOfWordsLogisticRegression, MostFrequentTagTagger, ngram_perplexities  # noqa: E402
from course_lib.data import corpora, synthetic  # noqa: E402
from course_lib.data.batching import lm_sequential_batches, padded_batches  # noqa: E402
from course_lib.data.vocab import PAD, UNK, Vocab  # noqa: E402
from course_lib.nn_torch.models import CharLM, Classifier, SequenceRegressor, Tagger  # noqa: E402
from course_lib.train import (  # noqa: E402
    choose_device,
    evaluate_torch,
    perplexity,
    slot_f1,
    token_accuracy,
    train_torch,
)

ROWS: list[dict] = []
# Budgets and timings are CPU seconds of this process (all threads), so the amount of training does not depend
# on how busy the machine is: "3 minutes on 2 cores" is a budget of 360 CPU seconds.
CLOCK = time.process_time


def row(task, model, metric, value, baseline, baseline_value, seconds, note=""):
    """Record (and echo) one line of the results table."""
    ROWS.append({"task": task, "model": model, "metric": metric, "value": value, "baseline": baseline,
                 "baseline_value": baseline_value, "seconds": seconds, "note": note})
    print(f"  {task:<22} {model:<26} {metric} = {value:.4g}   ({baseline}: {baseline_value:.4g}) "
          f"{seconds:.0f} CPU s {note}", flush=True)


def run_lm(budget, device):
    train, val, test = corpora.split_dataset(corpora.people_daily_text(), seed=0)
    vocab = Vocab.from_sequences(train, min_freq=2)
    train_ids, val_ids, test_ids = (vocab.encode_stream(part) for part in (train, val, test))
    started = CLOCK()
    val_rows = ngram_perplexities(train_ids, val_ids, len(vocab), orders=(1, 2, 3, 4, 5))
    best_n = min(val_rows, key=lambda r: r["perplexity"])["n"]  # n chosen on validation
    ngram_test = ngram_perplexities(train_ids, test_ids, len(vocab), orders=(best_n,))[0]["perplexity"]
    baseline = f"Kneser-Ney {best_n}-gram"
    row("char LM (People's Daily)", baseline, "test perplexity", ngram_test, baseline, ngram_test,
        CLOCK() - started)
    # Evaluation: sequential rows from offset 0, state carried, so (nearly) every test token is predicted
    # with all the text before it, as the n-gram model predicts it with its n - 1 predecessors.
    val_batches = list(lm_sequential_batches(val_ids[:60_000], 16, 64, offset=0))
    test_batches = list(lm_sequential_batches(test_ids, 16, 64, offset=0))
    for cell in ("rnn", "gru", "lstm"):
        torch.manual_seed(0)
        model = CharLM(len(vocab), embed_size=64, hidden_size=256, cell=cell).to(device)
        history = train_torch(model, lambda epoch: lm_sequential_batches(train_ids, 32, 64, seed=epoch),
                              val_batches, epochs=1000, lr=2e-3, clip_norm=1.0, carry_state=True,
                              max_seconds=budget, progress=False, clock=CLOCK, desc=cell)
        test_ppl = perplexity(evaluate_torch(model, test_batches, carry_state=True))
        row("char LM (People's Daily)", f"{cell.upper()} 256", "test perplexity", test_ppl, baseline,
            ngram_test, history["seconds"][-1], f"{history['steps']} steps of 32x64 chars")


def run_pos(budget, device):
    train, val, test = corpora.split_dataset(corpora.people_daily_tagged(), seed=0)
    started = CLOCK()
    accuracy = MostFrequentTagTagger().fit(train).accuracy(test)["accuracy"]
    row("POS tagging", "most frequent tag", "test token accuracy", accuracy, "most frequent tag", accuracy,
        CLOCK() - started)
    words = Vocab.from_sequences([[w for w, _ in s] for s in train], min_freq=2)
    tags = Vocab.from_sequences([[t for _, t in s] for s in train], reserved=(PAD, UNK))

    def encode(part):
        return [words.encode(w for w, _ in s) for s in part], [tags.encode(t for _, t in s) for s in part]

    (train_x, train_y), (val_x, val_y), (test_x, test_y) = encode(train), encode(val), encode(test)
    torch.manual_seed(0)
    model = Tagger(len(words), len(tags), embed_size=100, hidden_size=128, bidirectional=True,
                   dropout=0.2).to(device)
    history = train_torch(model, lambda e: padded_batches(train_x, train_y, 32, seed=e),
                          list(padded_batches(val_x, val_y, 128, shuffle=False)), epochs=1000, lr=2e-3,
                          clip_norm=5.0, patience=3, max_seconds=budget, progress=False, clock=CLOCK,
                          desc="pos")
    correct = total = 0
    for batch in padded_batches(test_x, test_y, 256, shuffle=False):
        predicted = model.predict(batch["inputs"], batch["lengths"])
        correct += token_accuracy(predicted, batch["targets"], batch["mask"]) * batch["mask"].sum()
        total += batch["mask"].sum()
    row("POS tagging", "BiLSTM 2x128", "test token accuracy", correct / total, "most frequent tag", accuracy,
        history["seconds"][-1], f"{len(history['epoch'])} epochs")


def run_sentiment(budget, device, max_chars=200):
    train, val, test = corpora.split_dataset(corpora.product_reviews(), seed=0)
    started = CLOCK()
    texts = lambda part: [t for t, _ in part]
    labels = lambda part: [label for _, label in part]
    bow = BagOfWordsLogisticRegression().fit(texts(train), labels(train))
    bow_accuracy = bow.accuracy(texts(test), labels(test))
    row("sentiment (reviews)", "bag of char 1-2-grams", "test accuracy", bow_accuracy, "bag of words",
        bow_accuracy, CLOCK() - started)
    chars = Vocab.from_sequences(texts(train), min_freq=2)
    encode = lambda part: [chars.encode(t[:max_chars]) for t in texts(part)]
    torch.manual_seed(0)
    model = Classifier(len(chars), 2, embed_size=64, hidden_size=128, pooling="mean", dropout=0.3).to(device)
    history = train_torch(model, lambda e: padded_batches(encode(train), labels(train), 32, seed=e),
                          list(padded_batches(encode(val), labels(val), 128, shuffle=False)), epochs=1000,
                          lr=2e-3, clip_norm=5.0, patience=3, max_seconds=budget, progress=False, clock=CLOCK,
                          desc="sentiment")
    correct = 0
    for batch in padded_batches(encode(test), labels(test), 256, shuffle=False):
        correct += int(np.sum(model.predict(batch["inputs"], batch["lengths"]) == batch["targets"]))
    row("sentiment (reviews)", "LSTM 128, mean of states", "test accuracy", correct / len(test),
        "bag of words", bow_accuracy, history["seconds"][-1],
        f"{len(history['epoch'])} epochs, first {max_chars} chars")


def run_slots(budget, device):
    for cue_position in ("before", "after"):
        parts = [synthetic.slot_filling(n, cue_position, seed=s) for n, s in ((3000, 0), (500, 1), (1000, 2))]
        words = Vocab.from_sequences([t for t, _ in parts[0]])
        # Baseline: each word gets its most frequent training label; a city then gets the slot it had most
        # often, whatever the cue, so it is right about half the time.
        tagger = MostFrequentTagTagger().fit([list(zip(t, lab, strict=True)) for t, lab in parts[0]])
        baseline_f1 = slot_f1([tagger.predict(t) for t, _ in parts[2]], [lab for _, lab in parts[2]])["f1"]
        row(f"slot filling, cue {cue_position}", "most frequent label", "test slot F1", baseline_f1,
            "most frequent label", baseline_f1, 0.0)
        labels = Vocab([], reserved=(PAD, *synthetic.SLOT_LABELS))
        encoded = [([words.encode(t) for t, _ in p], [labels.encode(lab) for _, lab in p]) for p in parts]
        for bidirectional in (False, True):
            torch.manual_seed(0)
            model = Tagger(len(words), len(labels), embed_size=32, hidden_size=64,
                           bidirectional=bidirectional).to(device)
            history = train_torch(model, lambda e, x=encoded[0]: padded_batches(*x, 32, seed=e),
                                  list(padded_batches(*encoded[1], 256, shuffle=False)), epochs=1000, lr=5e-3,
                                  patience=4, max_seconds=budget / 4, progress=False, clock=CLOCK,
                                  desc="slots")
            predicted_sequences, gold_sequences, city_correct = [], [], []
            for batch in padded_batches(*encoded[2], 256, shuffle=False):
                predicted = model.predict(batch["inputs"], batch["lengths"])
                for row_index, length in enumerate(batch["lengths"]):
                    gold = labels.decode(batch["targets"][row_index, :length])
                    guess = labels.decode(predicted[row_index, :length])
                    predicted_sequences.append(guess)
                    gold_sequences.append(gold)
                    city_correct += [g == p for g, p in zip(gold, guess, strict=True)
                                     if g.endswith(("arrival", "departure"))]
            f1 = slot_f1(predicted_sequences, gold_sequences)["f1"]
            name = ("bi" if bidirectional else "uni") + "directional LSTM 64"
            row(f"slot filling, cue {cue_position}", name, "test slot F1", f1, "most frequent label",
                baseline_f1,
                history["seconds"][-1], f"city-token accuracy {np.mean(city_correct):.3f}")


def run_adding(budget, device, lengths=(100, 200), cells=("rnn", "lstm", "gru")):
    for seq_len in lengths:
        X_val, y_val = synthetic.adding_problem(1000, seq_len, seed=10_000)
        X_test, y_test = synthetic.adding_problem(2000, seq_len, seed=20_000)
        for cell in cells:
            torch.manual_seed(0)
            model = SequenceRegressor(2, hidden_size=64, cell=cell).to(device)

            def fresh_batches(epoch, seq_len=seq_len):
                # New data every epoch (the generator is unlimited): 50 batches of 64.
                X, y = synthetic.adding_problem(50 * 64, seq_len, seed=epoch)
                return [(X[i : i + 64], y[i : i + 64]) for i in range(0, len(X), 64)]

            history = train_torch(model, fresh_batches, [(X_val, y_val)], epochs=100_000, lr=2e-3,
                                  clip_norm=1.0, max_seconds=budget / (len(cells) * len(lengths)),
                                  progress=False, clock=CLOCK, desc=f"adding {cell}")
            mse = float(np.mean((model.predict(X_test) - y_test) ** 2))
            row(f"adding problem, T = {seq_len}", cell.upper() + " 64", "test MSE", mse, "always 1",
                synthetic.ADDING_PROBLEM_BASELINE_MSE, history["seconds"][-1],
                f"{history['steps']} steps of 64")


TASKS = {"slots": run_slots, "adding": run_adding, "pos": run_pos, "sentiment": run_sentiment, "lm": run_lm}
# Budget per task, in units of --budget: one unit per model trained, except slot filling (four small models
# share one unit) and the adding problem (six models share four units: 2/3 of a unit each).
TASK_UNITS = {"lm": 1, "pos": 1, "sentiment": 1, "slots": 1, "adding": 4}


def markdown_table(rows) -> str:
    lines = ["| task | model | held-out metric | value | baseline | baseline value | CPU s | note |",
             "| --- | --- | --- | ---: | --- | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['model']} | {r['metric']} | {r['value']:.4g} | {r['baseline']} | "
                     f"{r['baseline_value']:.4g} | {r['seconds']:.0f} | {r['note']} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated, from " + ", ".join(TASKS))
    parser.add_argument("--budget", type=float, default=180.0,
                        help="training seconds per model on --threads dedicated cores")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = choose_device(args.device)
    started = time.perf_counter()
    for name in args.tasks.split(","):
        print(f"== {name}", flush=True)
        TASKS[name](args.budget * args.threads * TASK_UNITS[name], device)
    print()
    print(f"Results of benchmarks/results.py, {datetime.date.today().isoformat()}, device {device}, "
          f"{args.threads} threads, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"budget {args.budget:.0f} s x {args.threads} cores per model, "
          f"total {math.ceil((time.perf_counter() - started) / 60)} min wall clock")
    print()
    print(markdown_table(ROWS))


if __name__ == "__main__":
    main()
