"""The PyTorch models of the chapters and of ``benchmarks/results.py``, built on ``torch.nn.RNN/LSTM/GRU``.

- ``CharLM``             character language model (chapters 4–7)
- ``Tagger``             one label per token, uni- or bidirectional: slots, POS tags, copy task (chapter 8)
- ``Classifier``         one label per sequence from the last state or the mean of the states (chapter 9)
- ``SequenceRegressor``  one number per sequence of feature vectors: the adding problem (long-range memory)
- ``Seq2Seq``            encoder-decoder with teacher forcing and greedy decoding (chapter 10)

Every model has ``loss(batch, state=None) -> (mean_loss, num_items, state)`` that the training loop of
``course_lib.train`` calls; batches are the NumPy structures of ``course_lib.data.batching``. All recurrent
layers are batch first: inputs (N, T), hidden states (num_layers * num_directions, N, H).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

RECURRENT_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_recurrent(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    forget_bias: float = 1.0,
) -> nn.Module:
    """A batch-first ``nn.RNN`` (tanh), ``nn.LSTM`` or ``nn.GRU``.

    Parameters
    ----------
    cell
        "rnn", "lstm" or "gru"
    input_size, hidden_size, num_layers, bidirectional
        as in torch.nn
    dropout
        between stacked layers (ignored for one layer)
    forget_bias
        for the LSTM, the initial bias of the forget gate (chapter *Long short-term memory*: starting at 1 keeps the
        cell remembering early in training). PyTorch has two biases, b_ih and b_hh, that add up; we set b_ih's forget
        part to forget_bias and b_hh's to 0. Gate order i, f, g, o, so the forget part is [H : 2H].
    """
    if cell not in RECURRENT_LAYERS:
        raise ValueError(f"cell must be one of {tuple(RECURRENT_LAYERS)}, got {cell!r}")
    layer = RECURRENT_LAYERS[cell](
        input_size,
        hidden_size,
        num_layers=num_layers,
        batch_first=True,
        bidirectional=bidirectional,
        dropout=dropout if num_layers > 1 else 0.0,
    )
    if cell == "lstm":
        with torch.no_grad():
            for name, bias in layer.named_parameters():
                if name.startswith("bias_ih"):
                    bias[hidden_size : 2 * hidden_size] = forget_bias
                elif name.startswith("bias_hh"):
                    bias[hidden_size : 2 * hidden_size] = 0.0
    return layer


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _as_long(array, device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array), dtype=torch.long, device=device)


def _run_packed(recurrent: nn.Module, embedded: torch.Tensor, lengths) -> tuple[torch.Tensor, object]:
    """Run a recurrent layer over padded sequences without reading the padding (which would corrupt the
    backward direction and the final state). Returns outputs (N, T, H * directions), zero at padding, and the
    final state of every sequence."""
    lengths_cpu = torch.as_tensor(np.asarray(lengths), dtype=torch.long).cpu()
    packed = pack_padded_sequence(embedded, lengths_cpu, batch_first=True, enforce_sorted=False)
    outputs, state = recurrent(packed)
    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=embedded.shape[1])
    return outputs, state


def _final_hidden(state, num_directions: int) -> torch.Tensor:
    """Last layer's final hidden state(s), directions concatenated: (N, H * num_directions)."""
    h_n = state[0] if isinstance(state, tuple) else state  # the LSTM's state is (h, c)
    return torch.cat([h_n[-num_directions + d] for d in range(num_directions)], dim=-1)


class CharLM(nn.Module):
    """Embedding -> recurrent layer(s) -> linear: the logits of the next token at every step.

    Inputs (constructor): vocab_size V, embed_size E, hidden_size H, cell "rnn"/"lstm"/"gru", num_layers, dropout
    (on the outputs, and between stacked layers), bidirectional (only to show, in the chapter *Deep and bidirectional
    RNNs*, why a bidirectional language model cheats), and two regularisers that ``benchmarks/results.py`` uses for
    its larger model: embedding_dropout (on the embedded inputs) and tie_weights (the output layer reuses the
    embedding matrix as its weights, Press & Wolf 2017; needs E == H and one direction).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int = 64,
        hidden_size: int = 256,
        cell: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        embedding_dropout: float = 0.0,
        tie_weights: bool = False,
    ):
        super().__init__()
        if tie_weights and (embed_size != hidden_size or bidirectional):
            raise ValueError(
                f"tie_weights needs embed_size == hidden_size and one direction, got embed_size "
                f"{embed_size}, hidden_size {hidden_size}, bidirectional {bidirectional}"
            )
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.recurrent = make_recurrent(cell, embed_size, hidden_size, num_layers, bidirectional, dropout)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_size * (2 if bidirectional else 1), vocab_size)
        if tie_weights:
            self.output.weight = self.embedding.weight  # one (V, H) matrix, trained by both uses

    def forward(self, X: torch.Tensor, state=None):
        """X: (N, T) token indices; state: None (zeros) or the state returned by the previous call.
        Returns logits (N, T, V) and the final state."""
        outputs, state = self.recurrent(self.embedding_dropout(self.embedding(X)), state)  # (N, T, H)
        return self.output(self.dropout(outputs)), state

    def loss(self, batch, state=None):
        """batch = (X, Y), both (N, T). Mean cross-entropy per token, N * T tokens, and the final state."""
        device = _device_of(self)
        X, Y = _as_long(batch[0], device), _as_long(batch[1], device)
        logits, state = self(X, state)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1)), Y.numel(), state

    @torch.no_grad()
    def generate(self, prefix, num_tokens: int, temperature: float = 1.0, seed: int = 0) -> list[int]:
        """Continue a prefix of token indices by sampling num_tokens more, from softmax(logits / temperature);
        temperature 0 means greedy (always the most probable token). Returns prefix + sampled indices."""
        was_training = self.training
        self.eval()
        generator = torch.Generator().manual_seed(seed)
        device = _device_of(self)
        tokens = list(prefix)
        logits, state = self(_as_long([tokens], device))
        for _ in range(num_tokens):
            last = logits[0, -1].float().cpu()
            if temperature == 0:
                next_token = int(last.argmax())
            else:
                probabilities = torch.softmax(last / temperature, dim=-1)
                next_token = int(torch.multinomial(probabilities, 1, generator=generator))
            tokens.append(next_token)
            logits, state = self(_as_long([[next_token]], device), state)
        self.train(was_training)
        return tokens


@torch.no_grad()
def _predict_argmax(model, inputs, lengths) -> np.ndarray:
    """The arg-max of ``model(inputs, lengths)`` over its last axis, in eval mode, as a NumPy array."""
    was_training = model.training
    model.eval()
    logits = model(_as_long(inputs, _device_of(model)), lengths)
    model.train(was_training)
    return logits.argmax(dim=-1).cpu().numpy()


class Tagger(nn.Module):
    """Embedding -> (bi)recurrent layer(s) -> linear: one label per token (BIO slots, POS tags, copy task)."""

    def __init__(
        self,
        vocab_size: int,
        num_tags: int,
        embed_size: int = 64,
        hidden_size: int = 128,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.recurrent = make_recurrent(cell, embed_size, hidden_size, num_layers, bidirectional, dropout)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_size * (2 if bidirectional else 1), num_tags)

    def forward(self, X: torch.Tensor, lengths) -> torch.Tensor:
        """X: (N, T) token indices, lengths: (N,). Returns logits (N, T, num_tags)."""
        outputs, _ = _run_packed(self.recurrent, self.dropout(self.embedding(X)), lengths)
        return self.output(self.dropout(outputs))

    def loss(self, batch, state=None):
        """batch: dict from ``padded_batches`` with per-token "targets". Mean cross-entropy per real token."""
        device = _device_of(self)
        logits = self(_as_long(batch["inputs"], device), batch["lengths"])
        mask = torch.as_tensor(batch["mask"], device=device)
        targets = _as_long(batch["targets"], device)
        return F.cross_entropy(logits[mask], targets[mask]), int(mask.sum()), None

    def predict(self, inputs, lengths) -> np.ndarray:
        """Most probable tag of every token, (N, T) int64 (values at padding are meaningless)."""
        return _predict_argmax(self, inputs, lengths)


class Classifier(nn.Module):
    """Embedding -> recurrent layer(s) -> pooling -> linear: one label per sequence.

    pooling "last": the final hidden state (both directions' final states if bidirectional);
    "mean": the mean of the outputs over the real (unpadded) steps; "max": their element-wise maximum over the
    real steps (each feature reports its strongest evidence anywhere in the sequence).
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_size: int = 64,
        hidden_size: int = 128,
        cell: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        pooling: str = "last",
        dropout: float = 0.0,
    ):
        super().__init__()
        if pooling not in ("last", "mean", "max"):
            raise ValueError(f"pooling must be 'last', 'mean' or 'max', got {pooling!r}")
        self.pooling, self.num_directions = pooling, 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.recurrent = make_recurrent(cell, embed_size, hidden_size, num_layers, bidirectional, dropout)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(hidden_size * self.num_directions, num_classes)

    def forward(self, X: torch.Tensor, lengths) -> torch.Tensor:
        """X: (N, T) token indices, lengths: (N,). Returns logits (N, num_classes)."""
        outputs, state = _run_packed(self.recurrent, self.dropout(self.embedding(X)), lengths)
        if self.pooling == "last":
            pooled = _final_hidden(state, self.num_directions)
        elif self.pooling == "mean":
            lengths_t = torch.as_tensor(np.asarray(lengths), dtype=outputs.dtype, device=outputs.device)
            pooled = outputs.sum(dim=1) / lengths_t[:, None]  # padding outputs are zero
        else:
            steps = torch.arange(outputs.shape[1], device=outputs.device)
            lengths_t = torch.as_tensor(np.asarray(lengths), device=outputs.device)
            padding = steps[None, :] >= lengths_t[:, None]  # (N, T)
            pooled = outputs.masked_fill(padding[:, :, None], float("-inf")).amax(dim=1)
        return self.output(self.dropout(pooled))

    def loss(self, batch, state=None):
        """batch: dict from ``padded_batches`` with one target per sequence. Mean cross-entropy."""
        device = _device_of(self)
        logits = self(_as_long(batch["inputs"], device), batch["lengths"])
        targets = _as_long(batch["targets"], device)
        return F.cross_entropy(logits, targets), len(targets), None

    def predict(self, inputs, lengths) -> np.ndarray:
        """Most probable class of every sequence, (N,) int64."""
        return _predict_argmax(self, inputs, lengths)


class SequenceRegressor(nn.Module):
    """Recurrent layer over feature vectors -> linear on the final hidden state: one number per sequence."""

    def __init__(self, input_size: int, hidden_size: int = 64, cell: str = "lstm", num_layers: int = 1):
        super().__init__()
        self.recurrent = make_recurrent(cell, input_size, hidden_size, num_layers)
        self.output = nn.Linear(hidden_size, 1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X: (N, T, D) float. Returns predictions (N,)."""
        _, state = self.recurrent(X)
        return self.output(_final_hidden(state, 1)).squeeze(-1)

    def loss(self, batch, state=None):
        """batch = (X (N, T, D), y (N,)). Mean squared error."""
        device = _device_of(self)
        X = torch.as_tensor(np.asarray(batch[0]), dtype=torch.float32, device=device)
        y = torch.as_tensor(np.asarray(batch[1]), dtype=torch.float32, device=device)
        return F.mse_loss(self(X), y), len(y), None

    @torch.no_grad()
    def predict(self, X) -> np.ndarray:
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=_device_of(self))
        return self(X).cpu().numpy()


class Seq2Seq(nn.Module):
    """Encoder-decoder: the encoder's final state starts the decoder, and is also fed to the decoder at every
    step beside the previous output token (so the summary of the source is never forgotten).

    Inputs (constructor): source and target vocabulary sizes, embed_size, hidden_size, cell, num_layers.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        embed_size: int = 32,
        hidden_size: int = 128,
        cell: str = "gru",
        num_layers: int = 1,
    ):
        super().__init__()
        self.source_embedding = nn.Embedding(source_vocab_size, embed_size)
        self.target_embedding = nn.Embedding(target_vocab_size, embed_size)
        self.encoder = make_recurrent(cell, embed_size, hidden_size, num_layers)
        self.decoder = make_recurrent(cell, embed_size + hidden_size, hidden_size, num_layers)
        self.output = nn.Linear(hidden_size, target_vocab_size)

    def encode(self, source: torch.Tensor, source_lengths):
        """source: (N, S). Returns the encoder's final state (the decoder's initial state)."""
        _, state = _run_packed(self.encoder, self.source_embedding(source), source_lengths)
        return state

    def decode(self, decoder_inputs: torch.Tensor, state, context: torch.Tensor):
        """decoder_inputs: (N, T) previous tokens; context: (N, H). Returns logits (N, T, V_target), state."""
        embedded = self.target_embedding(decoder_inputs)  # (N, T, E)
        repeated = context[:, None, :].expand(-1, embedded.shape[1], -1)  # (N, T, H)
        outputs, state = self.decoder(torch.cat([embedded, repeated], dim=-1), state)
        return self.output(outputs), state

    def forward(self, source, source_lengths, decoder_inputs):
        """Teacher forcing: the decoder reads the true previous target tokens. Returns logits (N, T, V)."""
        state = self.encode(source, source_lengths)
        logits, _ = self.decode(decoder_inputs, state, _final_hidden(state, 1))
        return logits

    def loss(self, batch, state=None):
        """batch: dict with "inputs", "lengths" (source), "decoder_inputs" (<bos> y_1 .. y_{T-1}),
        "targets" (y_1 .. y_T <eos>) and "target_mask", all (N, T) but lengths. Mean cross-entropy per
        token."""
        device = _device_of(self)
        logits = self(_as_long(batch["inputs"], device), batch["lengths"], _as_long(batch["decoder_inputs"], device))
        mask = torch.as_tensor(batch["target_mask"], device=device)
        targets = _as_long(batch["targets"], device)
        return F.cross_entropy(logits[mask], targets[mask]), int(mask.sum()), None

    @torch.no_grad()
    def greedy_decode(self, source, source_lengths, bos_index: int, max_length: int) -> np.ndarray:
        """Decode by feeding back the most probable token at each step. Returns (N, max_length) int64;
        cut each row at its first <eos> yourself."""
        was_training = self.training
        self.eval()
        device = _device_of(self)
        state = self.encode(_as_long(source, device), source_lengths)
        context = _final_hidden(state, 1)
        token = torch.full((context.shape[0], 1), bos_index, dtype=torch.long, device=device)
        outputs = []
        for _ in range(max_length):
            logits, state = self.decode(token, state, context)
            token = logits.argmax(dim=-1)  # (N, 1)
            outputs.append(token)
        self.train(was_training)
        return torch.cat(outputs, dim=1).cpu().numpy()
