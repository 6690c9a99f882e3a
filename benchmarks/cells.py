"""Speed of the NumPy cells against torch.nn on the CPU: forward + backward of one batch, per cell.

    .venv/bin/python benchmarks/cells.py [--repeats 20] [--threads 2]

Setting (issue 3): float32, N=32 sequences of T=35 steps, D=128 input features, H=256 hidden units,
2 threads for both libraries, the median of repeated runs in one process after warm-up runs. NumPy and PyTorch
are timed alternately, so that both see the same background load. The NumPy side runs ``*_forward`` then
``*_backward`` (all gradients: x, h0, weights); the PyTorch side runs ``nn.RNN/LSTM/GRU`` and ``backward`` of
the same weighted sum of its outputs, with x requiring a gradient too, so both do the same work.
Prints one row per cell: the two medians in milliseconds, their ratio (NumPy / PyTorch; target <= 1.5) and the
median of the per-pair ratios ("paired", steadier on a busy machine).
"""

import argparse
import functools
import os
import statistics
import sys
import time


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per cell and library")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch")
    return parser.parse_args()


ARGS = parse_args()
# BLAS reads its thread count when it is loaded: set it before NumPy is imported.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # run from a checkout without installing
from course_lib.nn_numpy import (  # noqa: E402
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
)

N, T, D, H = 32, 35, 128, 256
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def numpy_step(cell, x, h0, params, dh):
    """One forward + backward of a NumPy cell."""
    if cell == "rnn":
        _, cache = rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
        return rnn_backward(dh, cache)
    if cell == "lstm":
        _, _, cache = lstm_forward(x, h0, h0, params["Wx"], params["Wh"], params["b"])
        return lstm_backward(dh, cache)
    _, cache = gru_forward(x, h0, params["Wx"], params["Wh"], params["bx"], params["bh"])
    return gru_backward(dh, cache)


def torch_step(module, x, dh):
    """One forward + backward of a torch.nn cell (zeroed gradients, zero initial state)."""
    module.zero_grad(set_to_none=True)
    x.grad = None
    output, _ = module(x)
    output.backward(dh)


def paired_timings(numpy_run, torch_run, repeats, warmup):
    """Times (ms) of both runs, taken alternately so that each pair sees the same background load.

    Returns the two medians and the median of the per-pair ratios (numpy / torch), which is steadier than the
    ratio of the medians when other processes share the CPU.
    """
    for _ in range(warmup):
        numpy_run()
        torch_run()
    numpy_times, torch_times = [], []
    for _ in range(repeats):
        for run, times in ((numpy_run, numpy_times), (torch_run, torch_times)):
            start = time.perf_counter()
            run()
            times.append(1000 * (time.perf_counter() - start))
    ratios = [a / b for a, b in zip(numpy_times, torch_times, strict=True)]
    return statistics.median(numpy_times), statistics.median(torch_times), statistics.median(ratios)


def main():
    torch.set_num_threads(ARGS.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    h0 = np.zeros((N, H), dtype=np.float32)
    dh = rng.standard_normal((N, T, H)).astype(np.float32)
    x_torch = torch.from_numpy(x).requires_grad_()
    dh_torch = torch.from_numpy(dh)
    print(f"N={N} T={T} D={D} H={H}, float32, {ARGS.threads} threads, median of {ARGS.repeats} runs")
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs, {date}")
    print(f"{'cell':<6}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'paired':>8}")
    for cell, module_class in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        G = GATES[cell] * H
        bound = 1 / np.sqrt(H)
        params = {
            "Wx": rng.uniform(-bound, bound, (D, G)).astype(np.float32),
            "Wh": rng.uniform(-bound, bound, (H, G)).astype(np.float32),
        }
        for name in ("bx", "bh") if cell == "gru" else ("b",):
            params[name] = rng.uniform(-bound, bound, G).astype(np.float32)
        module = module_class(D, H, batch_first=True)
        numpy_ms, torch_ms, paired_ratio = paired_timings(
            functools.partial(numpy_step, cell, x, h0, params, dh),
            functools.partial(torch_step, module, x_torch, dh_torch),
            ARGS.repeats,
            ARGS.warmup,
        )
        row = f"{cell:<6}{numpy_ms:>10.1f}{torch_ms:>10.1f}{numpy_ms / torch_ms:>8.2f}{paired_ratio:>8.2f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
