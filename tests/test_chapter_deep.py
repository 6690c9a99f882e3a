"""Chapter 7 (book/07-deep-bidirectional.md): its teaching code is right, and so are DeepCharLM and the long
benchmark behind it.

The chapter's functions are taken from the page itself (its import cell and every function definition; the one
class, TwoWayTagger, is loaded the same way), so a change on the page is tested here. Expected values come from
``torch.nn`` modules with random weights and from the structure of the computation (what depends on what), never
from the code under test.
"""

import ast
import pathlib
import subprocess
import sys

import jupytext
import numpy as np
import pytest
import torch
from book_helpers import chapter_namespace
from torch import nn

from course_lib.data import Vocab
from course_lib.nn_numpy import layer_params
from course_lib.nn_torch import torch_to_numpy
from course_lib.nn_torch.deep import DeepCharLM
from course_lib.nn_torch.models import CharLM

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "07-deep-bidirectional.md"
TOLERANCE = 1e-10  # float64 agreement of two exact computations of the same thing


@pytest.fixture(scope="module")
def chapter():
    namespace = chapter_namespace(CHAPTER)
    # chapter_namespace runs function definitions only; the page's one class is needed too
    for cell in jupytext.read(CHAPTER).cells:
        if cell.cell_type == "code" and "class " in cell.source:
            classes = [node for node in ast.parse(cell.source).body if isinstance(node, ast.ClassDef)]
            exec(compile(ast.Module(body=classes, type_ignores=[]), str(CHAPTER), "exec"), namespace)
    return namespace


def random_torch(module_class, D, H, seed, **kwargs):
    torch.manual_seed(seed)
    return module_class(D, H, batch_first=True, **kwargs).double()


@pytest.mark.parametrize("seed", [0, 1])
def test_deep_rnn_forward_is_nn_rnn_with_num_layers(chapter, seed):
    N, T, D, H, L = 2, 5, 3, 4, 3
    module = random_torch(nn.RNN, D, H, seed, num_layers=L)
    params = torch_to_numpy(module)
    layers = [layer_params(params, "rnn", layer) for layer in range(L)]
    rng = np.random.default_rng(seed)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(L, N, H))
    output, h_n = chapter["deep_rnn_forward"](x, h0, layers)
    expected_output, expected_h_n = module(torch.tensor(x), torch.tensor(h0))
    np.testing.assert_allclose(output, expected_output.detach().numpy(), rtol=TOLERANCE, atol=1e-12)
    np.testing.assert_allclose(h_n, expected_h_n.detach().numpy(), rtol=TOLERANCE, atol=1e-12)


def bidirectional_case(seed, N=2, T=5, D=3, H=4):
    module = random_torch(nn.RNN, D, H, seed, bidirectional=True)
    params = torch_to_numpy(module)
    p_forward, p_backward = (layer_params(params, "rnn", 0, direction) for direction in (0, 1))
    rng = np.random.default_rng(seed)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(2, N, H))
    expected = module(torch.tensor(x), torch.tensor(h0))[0].detach().numpy()  # (N, T, 2H)
    return x, h0, p_forward, p_backward, expected


@pytest.mark.parametrize("seed", [0, 1])
def test_bidirectional_rnn_forward_is_nn_rnn_bidirectional(chapter, seed):
    x, h0, p_forward, p_backward, expected = bidirectional_case(seed)
    H = h0.shape[2]
    concatenated = chapter["bidirectional_rnn_forward"](x, h0[0], h0[1], p_forward, p_backward)
    np.testing.assert_allclose(concatenated, expected, rtol=TOLERANCE, atol=1e-12)
    assert concatenated.shape == (x.shape[0], x.shape[1], 2 * H)


def test_unaligned_layer_pairs_step_t_with_the_backward_state_of_step_T_minus_1_minus_t(chapter):
    x, h0, p_forward, p_backward, expected = bidirectional_case(2, T=5)
    H = h0.shape[2]
    unaligned = chapter["bidirectional_rnn_forward_unaligned"](x, h0[0], h0[1], p_forward, p_backward)
    np.testing.assert_allclose(unaligned[..., :H], expected[..., :H], rtol=TOLERANCE, atol=1e-12)
    np.testing.assert_allclose(unaligned[..., H:], expected[:, ::-1, H:], rtol=TOLERANCE, atol=1e-12)
    np.testing.assert_allclose(unaligned[:, 2], expected[:, 2], rtol=TOLERANCE, atol=1e-12)  # the middle agrees
    assert not np.allclose(unaligned[:, 0], expected[:, 0])


def test_dependence_maps_show_which_inputs_each_output_has_read(chapter):
    x, _, p_forward, p_backward, _ = bidirectional_case(3, N=1, T=6, D=2, H=3)
    zeros = np.zeros((1, 3))
    correct = chapter["dependence_map"](
        lambda v: chapter["bidirectional_rnn_forward"](v, zeros, zeros, p_forward, p_backward), x, 3
    )
    unaligned = chapter["dependence_map"](
        lambda v: chapter["bidirectional_rnn_forward_unaligned"](v, zeros, zeros, p_forward, p_backward), x, 3
    )
    T = 6
    s, t = np.meshgrid(np.arange(T), np.arange(T))  # t: row (output step), s: column (input step)
    # the backward half of output t has read x_t .. x_{T-1} (correct) or x_{T-1-t} .. x_{T-1} (unaligned)
    assert np.all(correct[s < t] == 0.0) and np.all(correct[s >= t] > 1e-8)
    assert np.all(unaligned[s < T - 1 - t] == 0.0) and np.all(unaligned[s >= T - 1 - t] > 1e-8)


@pytest.mark.parametrize("merge", ["concat", "sum"])
def test_two_way_tagger_realigned_is_nn_gru_bidirectional(chapter, merge):
    torch.manual_seed(0)
    tagger = chapter["TwoWayTagger"](10, 2, hidden_size=5, merge=merge).double()
    gru = nn.GRU(16, 5, batch_first=True, bidirectional=True).double()
    with torch.no_grad():
        for name, value in tagger.forward_rnn.named_parameters():
            getattr(gru, name).copy_(value)
        for name, value in tagger.backward_rnn.named_parameters():
            getattr(gru, name + "_reverse").copy_(value)
    X = torch.randint(0, 10, (3, 7))
    states = gru(tagger.embedding(X))[0]
    merged = states if merge == "concat" else states[..., :5] + states[..., 5:]
    torch.testing.assert_close(tagger(X), tagger.output(merged))
    tagger.realign = False
    assert not torch.allclose(tagger(X), tagger.output(merged))


def test_next_char_perplexity_sees_no_difference_for_a_forward_model_only(chapter):
    rng = np.random.default_rng(0)
    chapter["val_ids"] = rng.integers(0, 12, size=200)
    torch.manual_seed(0)
    forward_only = CharLM(12, embed_size=8, hidden_size=8)
    bidirectional = CharLM(12, embed_size=8, hidden_size=8, bidirectional=True)
    score = chapter["next_char_perplexity"]
    assert score(forward_only, True, num_positions=50, context=10) == pytest.approx(
        score(forward_only, False, num_positions=50, context=10), rel=1e-6
    )
    assert score(bidirectional, True, num_positions=50, context=10) != pytest.approx(
        score(bidirectional, False, num_positions=50, context=10), rel=1e-3
    )


def test_greedy_continue_never_produces_unk(chapter):
    vocab = Vocab(list("中国人民日报"))
    chapter["vocab"] = vocab
    torch.manual_seed(0)
    model = CharLM(len(vocab), embed_size=4, hidden_size=4)
    with torch.no_grad():
        model.output.bias[vocab.unk_index] = 100.0  # <unk> would win every time
    text = chapter["greedy_continue"](model, "中国", 5)
    assert text.startswith("中国") and len(text) == 7 and "<unk>" not in text


def test_plain_deep_char_lm_is_char_lm_with_num_layers():
    torch.manual_seed(0)
    deep = DeepCharLM(20, hidden_size=6, num_layers=3).double()
    reference = CharLM(20, embed_size=6, hidden_size=6, cell="lstm", num_layers=3).double()
    with torch.no_grad():
        reference.embedding.weight.copy_(deep.embedding.weight)
        reference.output.weight.copy_(deep.output.weight)
        reference.output.bias.copy_(deep.output.bias)
        for layer, lstm in enumerate(deep.layers):
            for name, value in lstm.named_parameters():  # weight_ih_l0, ... of a one-layer LSTM
                getattr(reference.recurrent, name.replace("_l0", f"_l{layer}")).copy_(value)
    X = torch.randint(0, 20, (2, 9))
    torch.testing.assert_close(deep(X)[0], reference(X)[0])


def test_residual_and_layer_norm_change_what_the_layer_above_receives():
    torch.manual_seed(0)
    X = torch.randint(0, 20, (2, 5))
    plain = DeepCharLM(20, hidden_size=6, num_layers=2)
    for options in ({"residual": True}, {"layer_norm": True}):
        torch.manual_seed(0)
        other = DeepCharLM(20, hidden_size=6, num_layers=2, **options)
        other.load_state_dict(plain.state_dict(), strict=False)  # same weights; LayerNorm starts as scale 1, shift 0
        assert not torch.allclose(other(X)[0], plain(X)[0])
    # zero every LSTM weight and bias: each layer outputs 0, so the residual stack passes the embedding through
    residual = DeepCharLM(20, hidden_size=6, num_layers=2, residual=True)
    with torch.no_grad():
        for parameter in residual.layers.parameters():
            parameter.zero_()
    logits, _ = residual(X)
    torch.testing.assert_close(logits, residual.output(residual.embedding(X)))


@pytest.mark.slow
def test_deep_stacks_benchmark_runs(tmp_path):
    completed = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "deep_stacks.py"),
            "--steps",
            "2",
            "--seeds",
            "1",
            "--models",
            "2 layers,6 layers + orthogonal init",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    rows = [line for line in completed.stdout.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| model |") and [row.split("|")[1].strip() for row in rows[2:]] == [
        "2 layers",
        "6 layers + orthogonal init",
    ]
