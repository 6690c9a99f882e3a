"""The long version of chapter 7's experiment: does a 6-layer LSTM language model train, and what helps?

    python benchmarks/deep_stacks.py                       # 2,000 updates x 3 seeds x 7 models: one to two CPU hours
    python benchmarks/deep_stacks.py --steps 600 --seeds 1 # a shorter look
    python benchmarks/deep_stacks.py --steps 4 --seeds 1   # smoke run (numbers mean nothing)

Same data and model as the chapter (People's Daily characters, 500 most frequent + <unk>, embedding and LSTM
layers of --hidden units, Adam, gradients clipped at norm 1, windows of 32 x 32 characters), trained for --steps
updates instead of the chapter's 240, for several seeds. Models:

- 2 layers and 6 layers, learning rate 1e-2 (seed 004's setting)
- 2 and 6 layers with residual connections (does depth pay once both have the shortcut?); 6 layers with layer
  normalisation between the layers
- 6 layers with learning rate 1e-3
- 6 layers with an orthogonal initialisation (input and recurrent matrices orthogonal per gate block, gain 1)

Prints the validation perplexity of each model (mean and spread over the seeds) after every tenth of the run,
beside the unigram model's, as one Markdown table. Times are CPU seconds of this process (one torch thread).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone without installing

from course_lib.baselines import ngram_perplexities  # noqa: E402
from course_lib.data import Vocab, lm_random_batches, people_daily_text, split_dataset  # noqa: E402
from course_lib.nn_torch.deep import DeepCharLM  # noqa: E402
from course_lib.train import train_torch  # noqa: E402

MODELS = {
    "2 layers": {"num_layers": 2},
    "2 layers + residual": {"num_layers": 2, "residual": True},
    "6 layers": {"num_layers": 6},
    "6 layers + residual": {"num_layers": 6, "residual": True},
    "6 layers + layer norm": {"num_layers": 6, "layer_norm": True},
    "6 layers + lr 1e-3": {"num_layers": 6, "lr": 1e-3},
    "6 layers + orthogonal init": {"num_layers": 6, "orthogonal": True},
}


def orthogonal_init(model: DeepCharLM) -> None:
    """Every gate block of every LSTM weight matrix orthogonal (gain 1), so that no layer shrinks or stretches
    the signal at the start; biases keep make_recurrent's values (forget gate 1)."""
    with torch.no_grad():
        for name, weight in model.layers.named_parameters():
            if "weight" in name:
                for block in weight.chunk(4, dim=0):  # the i, f, g, o blocks, each (H, H)
                    torch.nn.init.orthogonal_(block)


def lm_data(vocab_size: int, train_chars: int, val_chars: int):
    train_text, val_text, _ = split_dataset(people_daily_text(), seed=0)
    vocab = Vocab.from_sequences(train_text, max_size=vocab_size)
    return vocab, vocab.encode_stream(train_text)[:train_chars], vocab.encode_stream(val_text)[:val_chars]


def run(name: str, seed: int, args, vocab, train_ids, val_batches) -> tuple[np.ndarray, float]:
    """Train one model; return its validation perplexity after each tenth of the run and its CPU seconds."""
    options = dict(MODELS[name])
    lr, orthogonal = options.pop("lr", 1e-2), options.pop("orthogonal", False)
    torch.manual_seed(seed)
    model = DeepCharLM(len(vocab), hidden_size=args.hidden, **options)
    if orthogonal:
        orthogonal_init(model)
    epochs = 10 if args.steps >= 10 else 1
    steps_per_epoch = args.steps // epochs

    def batches(epoch):
        return itertools.islice(lm_random_batches(train_ids, 32, 32, seed=1000 * seed + epoch), steps_per_epoch)

    started = time.process_time()
    history = train_torch(
        model,
        batches,
        val_batches,
        epochs=epochs,
        lr=lr,
        clip_norm=1.0,
        seed=seed,
        progress=False,
        clock=time.process_time,
    )
    return np.exp(history["val_loss"]), time.process_time() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="updates per model (default 2000)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per model (default 3)")
    parser.add_argument("--hidden", type=int, default=64, help="units per layer (default 64, as in the chapter)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated, from: " + ", ".join(MODELS))
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.models.split(",")]
    unknown = [name for name in names if name not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {list(MODELS)}")
    torch.set_num_threads(1)
    vocab, train_ids, val_ids = lm_data(500, 2_000_000, 65_536)
    val_batches = list(lm_random_batches(val_ids, 64, 32, seed=0))
    unigram = ngram_perplexities(train_ids, val_ids, len(vocab), orders=(1,))[0]["perplexity"]
    print(
        f"validation perplexity after {args.steps} updates of 32 x 32 characters, H = {args.hidden}, "
        f"{args.seeds} seed(s); unigram model {unigram:.1f}\n"
    )
    print("| model | perplexity (mean) | min-max over seeds | curve (mean, each tenth) | CPU s per run |")
    print("| --- | --- | --- | --- | --- |")
    for name in names:
        results = [run(name, seed, args, vocab, train_ids, val_batches) for seed in range(args.seeds)]
        curves = np.array([curve for curve, _ in results])
        finals = curves[:, -1]
        curve = " ".join(f"{value:.0f}" for value in curves.mean(axis=0))
        seconds = np.mean([s for _, s in results])
        print(
            f"| {name} | {finals.mean():.1f} | {finals.min():.1f}-{finals.max():.1f} | {curve} | {seconds:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
