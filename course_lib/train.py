"""Training loops for NumPy and PyTorch models (the metrics they report live in ``course_lib.metrics``).

Both loops do the same things, so a learner can watch a model learn: fixed seeds, a tqdm progress bar, optional gradient
clipping by global norm (chapter *Backpropagation through time*), a validation pass after every epoch, early stopping
that keeps the best weights, an optional time budget, and a history (dict of lists) for
``course_lib.plots.plot_history``.

The loops do not know the task: they call a *step function* on each batch.

- PyTorch: ``step(model, batch, state) -> (mean_loss, num_items, new_state)``; every model of
  ``course_lib.nn_torch.models`` has one, ``model.loss``, the default.
- NumPy: ``step(params, batch, state) -> (mean_loss, grads, num_items, new_state)`` with ``grads`` a dict
  shaped like ``params``.

``state`` is the hidden state carried from batch to batch when ``carry_state=True`` (sequential language-model batches,
the chapter *A character-level language model*; the PyTorch loop detaches it); otherwise every batch starts from None.
Epoch losses are means over items (tokens, sequences), not over batches, so a perplexity is exact.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable

import numpy as np
from tqdm.auto import tqdm

from course_lib.data.batching import detach_state
from course_lib.metrics import (  # noqa: F401  (re-exported: the chapters import them from here)
    bio_spans,
    exact_match,
    mean_squared_error,
    perplexity,
    slot_f1,
    token_accuracy,
)
from course_lib.nn_numpy.optim import SGD, Adam, clip_grad_norm

# ------------------------------------------------------------------------------------------------- set-up


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's generators (CPU and CUDA), so a run can be repeated."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def choose_device(device: str | None = None):
    """The given device, else CUDA when present, else the CPU."""
    import torch

    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def bfloat16_is_fast(device) -> bool:
    """Whether this device computes in bfloat16 natively, so that autocasting to it can speed training up: a CUDA
    GPU that supports it, or a CPU with bfloat16 instructions (AVX-512 BF16 or AMX); elsewhere it is emulated."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


# ------------------------------------------------------------------------------------------------- helpers


def _epoch_batches(batches, epoch: int):
    """Batches may be a list (reused every epoch) or a function epoch -> iterable (fresh shuffle per
    epoch)."""
    return batches(epoch) if callable(batches) else batches


def _new_history() -> dict:
    return {
        "epoch": [],
        "train_loss": [],
        "val_loss": [],
        "seconds": [],
        "steps": 0,
        "best_epoch": None,
        "stopped_early": False,
    }


def _record(history, epoch, train_loss, val_loss, extra, seconds):
    history["epoch"].append(epoch)
    history["train_loss"].append(train_loss)
    history["val_loss"].append(val_loss)
    history["seconds"].append(seconds)
    for name, value in (extra or {}).items():
        history.setdefault(name, []).append(value)


class _EarlyStopping:
    """Remembers the best validation loss and says when patience is exhausted."""

    def __init__(self, patience: int | None):
        self.patience, self.best, self.best_epoch, self.bad_epochs = patience, math.inf, None, 0

    def improved(self, loss: float, epoch: int) -> bool:
        if loss < self.best:
            self.best, self.best_epoch, self.bad_epochs = loss, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_epochs >= self.patience


# ------------------------------------------------------------------------------------------------- PyTorch


def evaluate_torch(model, batches, step: Callable | None = None, carry_state: bool = False) -> float:
    """Mean loss per item of a PyTorch model over batches, without gradients, in eval mode."""
    import torch

    step = step or (lambda m, batch, state: m.loss(batch, state))
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for batch in batches:
            loss, num_items, new_state = step(model, batch, state)
            total += float(loss) * num_items
            count += num_items
            state = new_state if carry_state else None
    model.train(was_training)
    return total / max(count, 1)


def train_torch(
    model,
    train_batches,
    val_batches=None,
    *,
    epochs: int = 10,
    lr: float = 1e-3,
    optimizer=None,
    step: Callable | None = None,
    clip_norm: float | None = None,
    patience: int | None = None,
    carry_state: bool = False,
    metrics: Callable | None = None,
    max_seconds: float | None = None,
    seed: int | None = 0,
    progress: bool = True,
    desc: str = "training",
    clock: Callable = time.perf_counter,
    lr_decay: float = 1.0,
    bfloat16: bool = False,
) -> dict:
    """Train a PyTorch model with Adam (or the given optimizer), validating after every epoch.

    Parameters
    ----------
    model
        an nn.Module, already on its device (``model.to(choose_device())``)
    train_batches, val_batches
        lists of batches, or functions epoch -> iterable of batches
    epochs
        the most epochs to run; lr: Adam's learning rate (ignored if optimizer is given)
    step
        the step function (default ``model.loss``)
    clip_norm
        clip the global gradient norm to this value (None: no clipping)
    patience
        stop after this many epochs without a better validation loss, and restore the best weights
    carry_state
        pass each batch's final state, detached, to the next batch (sequential LM batches)
    metrics
        function model -> dict of extra numbers to record after each epoch (e.g. validation accuracy)
    max_seconds
        time budget; when it is spent, the current epoch ends early, is validated, and training
        stops
    seed
        seed for ``set_seed`` before training (None: leave the generators alone)
    progress
        show a tqdm bar per epoch
    clock
        what max_seconds and history["seconds"] measure: wall time (default), or e.g.
        ``time.process_time`` (CPU seconds of this process, all threads), which does not depend on how busy the
        machine is
    lr_decay
        multiply the learning rate by this after every epoch (1: constant)
    bfloat16
        run the forward pass under ``torch.autocast`` in bfloat16 (weights and optimizer stay float32;
        validation stays in float32). Worth it where ``bfloat16_is_fast``: on this project's AVX-512 BF16 CPU the
        character language model of ``benchmarks/results.py`` takes 1.5x more steps per second

    Returns
    -------
    history
        dict with lists "epoch", "train_loss", "val_loss" (None without validation), "seconds"
        (since the start), one list per metric, "steps" (optimizer steps taken), "best_epoch" and
        "stopped_early". With validation, the model
        ends with the weights of its best validation epoch.
    """
    import torch

    if seed is not None:
        set_seed(seed)
    step = step or (lambda m, batch, state: m.loss(batch, state))
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, lr_decay) if lr_decay != 1.0 else None
    device_type = next(model.parameters()).device.type
    history, stopper, best_weights = _new_history(), _EarlyStopping(patience), None
    started = clock()
    for epoch in range(1, epochs + 1):
        model.train()
        total, count, state = 0.0, 0, None
        bar = tqdm(
            _epoch_batches(train_batches, epoch), desc=f"{desc} epoch {epoch}", disable=not progress, leave=False
        )
        for batch in bar:
            with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bfloat16):
                loss, num_items, new_state = step(model, batch, state)
            optimizer.zero_grad()
            loss.backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            history["steps"] += 1
            state = detach_state(new_state) if carry_state else None
            total += loss.item() * num_items
            count += num_items
            bar.set_postfix(loss=f"{total / count:.4f}")
            if max_seconds is not None and clock() - started > max_seconds:
                break  # out of time: validate what we have, then stop
        val_loss = None
        if val_batches is not None:
            val_loss = evaluate_torch(model, _epoch_batches(val_batches, epoch), step, carry_state)
            if stopper.improved(val_loss, epoch):
                best_weights = copy.deepcopy(model.state_dict())
        extra = metrics(model) if metrics else None
        _record(history, epoch, total / max(count, 1), val_loss, extra, clock() - started)
        if scheduler is not None:
            scheduler.step()
        if stopper.should_stop:
            history["stopped_early"] = True
            break
        if max_seconds is not None and clock() - started > max_seconds:
            break
    if best_weights is not None:
        model.load_state_dict(best_weights)
    history["best_epoch"] = stopper.best_epoch
    return history


# ------------------------------------------------------------------------------------------------- NumPy


def train_numpy(
    params: dict,
    step: Callable,
    train_batches,
    val_batches=None,
    *,
    epochs: int = 10,
    lr: float = 1e-2,
    optimizer: str | Callable = "adam",
    clip_norm: float | None = None,
    patience: int | None = None,
    carry_state: bool = False,
    metrics: Callable | None = None,
    max_seconds: float | None = None,
    seed: int | None = 0,
    progress: bool = True,
    desc: str = "training",
    clock: Callable = time.perf_counter,
    val_step: Callable | None = None,
) -> dict:
    """Train a NumPy model whose parameters are a dict of arrays, updated in place.

    Parameters
    ----------
    params
        dict name -> array
    step : ndarray, shape (mean_loss, grads, num_items, new_state)
        function (params, batch, state) ->
    optimizer
        "adam", "sgd" (``course_lib.nn_numpy.optim``'s Adam and SGD), or a function (params, grads) that
        updates params in place
    clip_norm
        clip the gradients by their global norm (``course_lib.nn_numpy.clip_grad_norm``, as PyTorch does)
    val_step
        function (params, batch, state) -> (mean_loss, num_items, new_state) for validation, which needs no
        gradients; None uses ``step`` and discards its gradients (a wasted backward pass)
        - the other inputs as in ``train_torch``; ``metrics`` receives params

    Returns
    -------
    history
        as in ``train_torch``; with validation, params end at their best validation epoch's values.
    """
    if seed is not None:
        np.random.seed(seed)
    if callable(optimizer):
        update = optimizer
    else:
        rule = {"adam": Adam, "sgd": SGD}[optimizer](params, lr=lr)
        update = lambda _, grads: rule.step(grads)  # noqa: E731
    history, stopper, best_params = _new_history(), _EarlyStopping(patience), None
    started = clock()
    for epoch in range(1, epochs + 1):
        total, count, state = 0.0, 0, None
        bar = tqdm(
            _epoch_batches(train_batches, epoch), desc=f"{desc} epoch {epoch}", disable=not progress, leave=False
        )
        for batch in bar:
            loss, grads, num_items, new_state = step(params, batch, state)
            if clip_norm is not None:
                clip_grad_norm(grads, clip_norm)
            update(params, grads)
            history["steps"] += 1
            state = new_state if carry_state else None
            total += float(loss) * num_items
            count += num_items
            bar.set_postfix(loss=f"{total / count:.4f}")
            if max_seconds is not None and clock() - started > max_seconds:
                break
        val_loss = None
        if val_batches is not None:
            val_total, val_count, state = 0.0, 0, None
            for batch in _epoch_batches(val_batches, epoch):
                if val_step is not None:
                    loss, num_items, new_state = val_step(params, batch, state)
                else:
                    loss, _, num_items, new_state = step(params, batch, state)
                val_total += float(loss) * num_items
                val_count += num_items
                state = new_state if carry_state else None
            val_loss = val_total / max(val_count, 1)
            if stopper.improved(val_loss, epoch):
                best_params = {name: value.copy() for name, value in params.items()}
        extra = metrics(params) if metrics else None
        _record(history, epoch, total / max(count, 1), val_loss, extra, clock() - started)
        if stopper.should_stop:
            history["stopped_early"] = True
            break
        if max_seconds is not None and clock() - started > max_seconds:
            break
    if best_params is not None:
        for name, value in best_params.items():
            params[name][...] = value
    history["best_epoch"] = stopper.best_epoch
    return history
