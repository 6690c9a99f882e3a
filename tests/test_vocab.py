"""Vocab: reserved indices, min_freq, a reproducible order, encode/decode and save/load round trips."""

import numpy as np
import pytest

from course_lib.data.vocab import BOS, EOS, PAD, UNK, Vocab


def test_reserved_tokens_come_first_then_by_count():
    vocab = Vocab(list("abracadabra"))  # a:5 b:2 r:2 c:1 d:1
    assert vocab.index_to_token == [PAD, UNK, BOS, EOS, "a", "b", "r", "c", "d"]
    assert (vocab.pad_index, vocab.unk_index, vocab.bos_index, vocab.eos_index) == (0, 1, 2, 3)
    assert len(vocab) == 9 and "a" in vocab and "z" not in vocab


def test_min_freq_sends_rare_tokens_to_unk():
    vocab = Vocab(list("abracadabra"), min_freq=2)
    assert "c" not in vocab and "d" not in vocab
    assert vocab.encode("cab") == [vocab.unk_index, vocab["a"], vocab["b"]]
    assert vocab.counts["c"] == 1, "counts keep every token seen, also the ones left out"


def test_max_size_keeps_the_most_frequent():
    vocab = Vocab(list("aaaabbbcc d"), max_size=2)
    assert vocab.index_to_token[4:] == ["a", "b"]


def test_encode_decode_round_trip_on_known_tokens():
    text = "人民日报社论人民"
    vocab = Vocab.from_sequences([text, "社会"])
    indices = vocab.encode(text)
    assert vocab.decode(indices) == list(text)
    assert vocab.decode(np.array(indices)) == list(text)
    assert len(set(indices)) == len(set(text))


def test_vocab_without_unk_rejects_unknown_tokens():
    tags = Vocab(["n", "v", "n"], reserved=(PAD,))
    assert tags.index_to_token == [PAD, "n", "v"] and tags.unk_index is None
    with pytest.raises(KeyError):
        tags["x"]


def test_encode_stream_appends_eos_after_each_sequence():
    vocab = Vocab.from_sequences(["ab", "ba"])
    stream = vocab.encode_stream(["ab", "b"])
    assert stream.dtype == np.int64
    assert stream.tolist() == [vocab["a"], vocab["b"], vocab.eos_index, vocab["b"], vocab.eos_index]
    assert vocab.encode_stream(["ab"], eos=False).tolist() == [vocab["a"], vocab["b"]]


def test_save_load_round_trip(tmp_path):
    vocab = Vocab(list("循环神经网络循环"), min_freq=1, reserved=(PAD, UNK, BOS, EOS))
    path = tmp_path / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded.index_to_token == vocab.index_to_token
    assert loaded.token_to_index == vocab.token_to_index
    assert loaded.counts == vocab.counts and loaded.min_freq == vocab.min_freq
    assert loaded.encode("神经元") == vocab.encode("神经元")


def test_duplicate_reserved_tokens_are_refused():
    with pytest.raises(ValueError):
        Vocab("ab", reserved=(PAD, PAD))
