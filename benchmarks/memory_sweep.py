"""The long version of chapter 11's experiment: RNN, IRNN, LSTM and GRU on the adding problem and the copy task.

    python benchmarks/memory_sweep.py                                      # T up to 200, 3 seeds: CPU hours
    python benchmarks/memory_sweep.py --lengths 50 100 --seeds 2           # a shorter look
    python benchmarks/memory_sweep.py --lengths 10 --delays 3 --steps 5 --seeds 1   # smoke run (numbers mean nothing)

It runs the chapter's own functions (``train_adding``, ``train_copy``), loaded from book/11-long-range-memory.md, with
more updates, longer sequences and several seeds, and prints two Markdown tables: the held-out MSE on the adding
problem (mean and spread over the seeds, beside the trivial 1/6) and the accuracy on the copy task's written symbols
(beside chance, 1/K). Times are CPU seconds of this process (one torch thread).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a fresh clone without installing
sys.path.insert(0, str(ROOT / "tests"))

from book_helpers import chapter_namespace  # noqa: E402

CELLS = ("rnn", "irnn", "lstm", "gru")


def summary(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std():.4f}" if len(values) > 1 else f"{values[0]:.4f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[25, 50, 100, 200], help="adding-problem T")
    parser.add_argument("--delays", type=int, nargs="+", default=[10, 50, 100], help="copy-task delays")
    parser.add_argument("--steps", type=int, default=3000, help="updates per model")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    chapter = chapter_namespace(ROOT / "book" / "11-long-range-memory.md")
    start = time.process_time()

    print(f"Adding problem: held-out MSE after {args.steps} updates, H = {args.hidden}, {args.seeds} seed(s)\n")
    print("| T | always 1 | " + " | ".join(args.cells) + " |")
    print("|---" * (len(args.cells) + 2) + "|")
    for T in args.lengths:
        scores = {
            cell: [
                chapter["train_adding"](
                    cell, T, seed=s, steps=args.steps, hidden_size=args.hidden, probe_every=max(args.steps, 1)
                )["test_mse"]
                for s in range(args.seeds)
            ]
            for cell in args.cells
        }
        print(f"| {T} | {1 / 6:.4f} | " + " | ".join(summary(scores[c]) for c in args.cells) + " |", flush=True)

    print(f"\nCopy task (S = 4 symbols, K = 4): accuracy on the written symbols, chance {1 / 4:.3f}\n")
    print("| delay | " + " | ".join(args.cells) + " |")
    print("|---" * (len(args.cells) + 1) + "|")
    for D in args.delays:
        scores = {
            cell: [
                chapter["train_copy"](cell, D, seed=s, steps=args.steps, hidden_size=args.hidden)
                for s in range(args.seeds)
            ]
            for cell in args.cells
        }
        print(f"| {D} | " + " | ".join(summary(scores[c]) for c in args.cells) + " |", flush=True)
    print(f"\n{time.process_time() - start:.0f} CPU-s")


if __name__ == "__main__":
    main()
