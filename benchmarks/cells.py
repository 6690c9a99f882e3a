"""Speed of the NumPy cells against torch.nn on the CPU: forward + backward of one batch, per cell.

    .venv/bin/python benchmarks/cells.py [--repeats 20] [--rounds 3] [--threads 2] [--cells rnn lstm gru]

Setting: float32, N=32 sequences of T=35 steps, D=128 input features, H=256 hidden units, the same number of threads
for both libraries. The NumPy side runs ``*_forward`` then ``*_backward`` (all gradients: x, h0, weights); the PyTorch
side runs ``nn.RNN/LSTM/GRU`` and ``backward`` of the same weighted sum of its outputs, with x requiring a gradient
too, so both do the same work.

**Each library is timed in a process of its own**, which imports only that library. Timing both in one process
falsifies the ratio: the BLAS threads of NumPy are still spinning when PyTorch's start, and the two thread pools fight
for the cores (measured on the 2-core machine: ``nn.LSTM`` took 29 ms alone and 54 ms beside NumPy). To share the
machine's background load fairly, the processes alternate: ``--rounds`` rounds of (NumPy process, PyTorch process),
each timing ``--repeats`` runs after warm-up. Prints, per cell, the median times of both libraries over all rounds,
their ratio (NumPy / PyTorch), the spread of the per-round ratios, and the time of the NumPy cell's matrix products
alone (same shapes and count, in a third process). What the NumPy cell takes above that is its elementwise work:
each NumPy operation is a Python call and a pass of its own over memory, where PyTorch runs a step's gate
arithmetic in compiled code.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

N, T, D, H = 32, 35, 128, 256
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per process (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating (NumPy, PyTorch) process pairs (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for BLAS and for torch (default 2)")
    parser.add_argument("--cells", nargs="+", default=list(GATES), choices=list(GATES))
    parser.add_argument("--worker", nargs=2, metavar=("LIBRARY", "CELL"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _inputs(np, cell, rng):
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    dh = rng.standard_normal((N, T, H)).astype(np.float32)
    G = GATES[cell] * H
    bound = 1 / np.sqrt(H)
    params = {
        "Wx": rng.uniform(-bound, bound, (D, G)).astype(np.float32),
        "Wh": rng.uniform(-bound, bound, (H, G)).astype(np.float32),
    }
    for name in ("bx", "bh") if cell == "gru" else ("b",):
        params[name] = rng.uniform(-bound, bound, G).astype(np.float32)
    return x, dh, params


def numpy_run(cell):
    """A function that runs one forward + backward of the NumPy cell (this process imports NumPy only)."""
    import numpy as np

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))  # run from a checkout without installing
    from course_lib import nn_numpy

    x, dh, p = _inputs(np, cell, np.random.default_rng(0))
    h0 = np.zeros((N, H), dtype=np.float32)

    def run():
        if cell == "rnn":
            _, cache = nn_numpy.rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])
            return nn_numpy.rnn_backward(dh, cache)
        if cell == "lstm":
            _, _, cache = nn_numpy.lstm_forward(x, h0, h0, p["Wx"], p["Wh"], p["b"])
            return nn_numpy.lstm_backward(dh, cache)
        _, cache = nn_numpy.gru_forward(x, h0, p["Wx"], p["Wh"], p["bx"], p["bh"])
        return nn_numpy.gru_backward(dh, cache)

    return run, np.__version__


def products_run(cell):
    """A function that runs only the NumPy cell's matrix products (same shapes, same count), nothing else.

    Its time is the floor that NumPy's elementwise work, done as separate passes, adds to: forward x @ Wx for all
    steps and h_{t-1} @ Wh per step; backward da_t @ Wh.T per step, then dx, dWx and dWh over all T*N rows.
    """
    import numpy as np

    x, _, p = _inputs(np, cell, np.random.default_rng(0))
    G = GATES[cell] * H
    x_rows = x.reshape(T * N, D)
    h_rows = np.ones((T * N, H), dtype=np.float32) / H
    da = np.ones((T * N, G), dtype=np.float32) / G
    WhT = np.ascontiguousarray(p["Wh"].T)
    h_part = np.empty((N, G), dtype=np.float32)

    def run():
        gates = x_rows @ p["Wx"]
        for t in range(T):
            np.matmul(h_rows[t * N : (t + 1) * N], p["Wh"], out=h_part)
        for t in reversed(range(T)):
            da[t * N : (t + 1) * N] @ WhT
        return gates, da @ p["Wx"].T, x_rows.T @ da, h_rows.T @ da

    return run, np.__version__


def torch_run(cell, threads):
    """A function that runs one forward + backward of the torch.nn cell (this process never imports course_lib)."""
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    x, dh, _ = _inputs(np, cell, np.random.default_rng(0))
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](D, H, batch_first=True)
    x_torch, dh_torch = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dh)

    def run():
        module.zero_grad(set_to_none=True)
        x_torch.grad = None
        output, _ = module(x_torch)
        output.backward(dh_torch)

    return run, torch.__version__


def worker(args):
    library, cell = args.worker
    runs = {"numpy": numpy_run, "products": products_run}
    run, version = runs[library](cell) if library in runs else torch_run(cell, args.threads)
    for _ in range(args.warmup):
        run()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        times.append(1000 * (time.perf_counter() - start))
    loaded = sorted(name for name in ("numpy", "torch") if name in sys.modules)
    print(json.dumps({"version": version, "times_ms": times, "libraries_loaded": loaded}))


def time_in_own_process(library, cell, args):
    """Median time (ms) of one library's cell, measured in a fresh process that imports only that library."""
    env = dict(os.environ)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(args.threads)  # BLAS reads its thread count when it is loaded
    command = [
        sys.executable,
        __file__,
        "--worker",
        library,
        cell,
        "--repeats",
        str(args.repeats),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
    ]
    result = json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)
    return statistics.median(result["times_ms"]), result["version"]


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(
        f"N={N} T={T} D={D} H={H}, float32, {args.threads} threads, {args.rounds} rounds x {args.repeats} runs, "
        f"each library in its own process; {os.cpu_count()} CPUs, {date}"
    )
    print(f"{'cell':<6}{'numpy ms':>10}{'torch ms':>10}{'ratio':>8}{'rounds':>16}{'products ms':>13}")
    versions = {}
    for cell in args.cells:
        numpy_ms, torch_ms, products_ms = [], [], []
        for _ in range(args.rounds):
            ms, versions["numpy"] = time_in_own_process("numpy", cell, args)
            numpy_ms.append(ms)
            ms, versions["torch"] = time_in_own_process("torch", cell, args)
            torch_ms.append(ms)
            products_ms.append(time_in_own_process("products", cell, args)[0])
        ratios = [a / b for a, b in zip(numpy_ms, torch_ms, strict=True)]
        a, b = statistics.median(numpy_ms), statistics.median(torch_ms)
        spread, products = f"{min(ratios):.2f}-{max(ratios):.2f}", statistics.median(products_ms)
        print(f"{cell:<6}{a:>10.1f}{b:>10.1f}{a / b:>8.2f}{spread:>16}{products:>13.1f}", flush=True)
    print(f"numpy {versions['numpy']}, torch {versions['torch']}")


if __name__ == "__main__":
    main()
