"""Synthetic tasks: seeded, and each label really depends on what it claims to depend on."""

import datetime

import numpy as np
import pytest

from course_lib.data import synthetic
from course_lib.data.synthetic import (
    LSTM_CELL_EXAMPLE_INPUTS,
    LSTM_CELL_EXAMPLE_OUTPUTS,
    SLOT_LABELS,
    TEMPLATES,
    adding_problem,
    chinese_date,
    chinese_dates,
    copy_task,
    copy_task_baseline_cross_entropy,
    memory_cell_reference,
    slot_filling,
    travel_request,
)


@pytest.mark.parametrize("cue_position", ["before", "after"])
@pytest.mark.parametrize("template", [0, 1, 2])
def test_city_label_flips_with_the_cue_word(cue_position, template):
    arrive_tokens, arrive_labels = travel_request("new york", "arrive", "may third", cue_position, template)
    leave_tokens, leave_labels = travel_request("new york", "leave", "may third", cue_position, template)
    city_start = arrive_tokens.index("new")
    leave_city_start = leave_tokens.index("new")
    assert arrive_labels[city_start : city_start + 2] == ["B-arrival", "I-arrival"]
    assert leave_labels[leave_city_start : leave_city_start + 2] == ["B-departure", "I-departure"]
    others = set(arrive_labels) - {"B-arrival", "I-arrival"}
    assert others == set(leave_labels) - {"B-departure", "I-departure"}
    cue_index = arrive_tokens.index("arrive")
    assert leave_tokens[cue_index] == "leave"
    if cue_position == "before":
        assert cue_index < city_start
    else:
        # Nothing up to the end of the city differs: a left-to-right reader cannot tell the two apart there.
        assert cue_index > city_start + 1
        assert arrive_tokens[: city_start + 2] == leave_tokens[: city_start + 2]
    has_date = "{date}" in TEMPLATES[cue_position][template]
    assert arrive_labels.count("B-date") == leave_labels.count("B-date") == has_date


def test_date_and_other_labels():
    tokens, labels = travel_request("paris", "leave", "june tenth", "before", 0, opening="i want to")
    assert tokens == ["i", "want", "to", "leave", "paris", "on", "june", "tenth"]
    assert labels == ["O", "O", "O", "O", "B-departure", "O", "B-date", "I-date"]


@pytest.mark.parametrize("cue_position", ["before", "after", "mixed"])
def test_slot_filling_is_seeded_and_labels_are_valid(cue_position):
    examples = slot_filling(200, cue_position, seed=5)
    assert examples == slot_filling(200, cue_position, seed=5)
    assert examples != slot_filling(200, cue_position, seed=6)
    cues = {"arrive": 0, "leave": 0}
    for tokens, labels in examples:
        assert len(tokens) == len(labels) and set(labels) <= set(SLOT_LABELS)
        for previous, label in zip(["O"] + labels, labels, strict=False):
            if label.startswith("I-"):
                assert previous[2:] == label[2:], "an I- label must continue a span of the same slot"
        cue = "arrive" if "arrive" in tokens else "leave"
        cues[cue] += 1
        city_labels = {label[2:] for label in labels if label[2:] in ("arrival", "departure")}
        assert city_labels == {"arrival" if cue == "arrive" else "departure"}
    assert min(cues.values()) > 60


def test_default_gap_keeps_the_data_of_before_the_gap_existed():
    # The first examples as the generator produced them before it had a gap argument (chapter 2's prose and
    # benchmarks/results.py rely on the default data staying the same).
    assert slot_filling(2, "before", seed=0) == [
        (["on", "august", "sixth", "arrive", "in", "tokyo"], ["O", "B-date", "I-date", "O", "O", "B-arrival"]),
        (
            ["my", "boss", "needs", "to", "leave", "kuala", "lumpur", "on", "january", "second"],
            ["O", "O", "O", "O", "O", "B-departure", "I-departure", "O", "B-date", "I-date"],
        ),
    ]
    assert slot_filling(2, "after", seed=0) == [
        (["tokyo", "is", "the", "place", "we", "arrive", "in"], ["B-arrival", "O", "O", "O", "O", "O", "O"]),
        (
            ["kuala", "lumpur", "is", "where", "i", "leave", "on", "january", "second"],
            ["B-departure", "I-departure", "O", "O", "O", "O", "O", "B-date", "I-date"],
        ),
    ]
    assert slot_filling(50, "mixed", seed=4, gap=0) == slot_filling(50, "mixed", seed=4)


@pytest.mark.parametrize("gap", [0, 1, 5])
@pytest.mark.parametrize("cue_position", ["before", "after"])
def test_gap_puts_that_many_fillers_between_cue_and_city(cue_position, gap):
    examples = slot_filling(100, cue_position, seed=7, gap=gap)
    assert examples == slot_filling(100, cue_position, seed=7, gap=gap)
    for tokens, labels in examples:
        city = [i for i, label in enumerate(labels) if label.endswith(("arrival", "departure"))]
        first, last = city[0], city[-1]
        assert city == list(range(first, last + 1))
        fillers = [i for i, token in enumerate(tokens) if token in synthetic.FILLERS]
        assert all(labels[i] == "O" for i in fillers)
        if cue_position == "before":
            assert fillers == list(range(first - gap, first))
            assert tokens[first - gap - 1] in ("in", "leave")  # the word before the fillers is the cue
        else:
            assert fillers == list(range(last + 1, last + 1 + gap))
            assert tokens[last + 1 + gap] in ("is", "on")  # the template goes on after the fillers
        # without the fillers, the request is one the generator makes without a gap
        kept = [i for i in range(len(tokens)) if i not in fillers]
        cue = "arrive" if "arrive" in tokens else "leave"
        plain = [tokens[i] for i in kept]
        assert (cue in plain) and labels[first][2:] == ("arrival" if cue == "arrive" else "departure")
    words = {t for tokens, _ in examples for t in tokens}
    assert (words & set(synthetic.FILLERS) != set()) == (gap > 0)


def test_fillers_say_nothing_about_the_slot():
    reserved = set(synthetic.CUES) | {"in"} | {w for city in synthetic.CITIES for w in city.split()}
    reserved |= set(synthetic.MONTHS) | set(synthetic.ORDINALS)
    reserved |= {w for patterns in TEMPLATES.values() for p in patterns for w in p.split() if "{" not in w}
    assert not reserved & set(synthetic.FILLERS)
    with pytest.raises(ValueError):
        slot_filling(3, gap=-1)


def test_adding_problem_target_is_the_sum_of_the_marked_values():
    X, y = adding_problem(500, seq_len=50, seed=0)
    assert X.shape == (500, 50, 2) and y.shape == (500,)
    markers = X[..., 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :25].sum(axis=1) == 1) and np.all(markers[:, 25:].sum(axis=1) == 1)
    np.testing.assert_allclose(y, (X[..., 0] * markers).sum(axis=1))
    X_big, y_big = adding_problem(20_000, seq_len=10, seed=1)
    assert abs(np.mean((y_big - 1.0) ** 2) - synthetic.ADDING_PROBLEM_BASELINE_MSE) < 0.01
    np.testing.assert_array_equal(adding_problem(3, 8, seed=4)[0], adding_problem(3, 8, seed=4)[0])


def test_copy_task_layout():
    X, Y = copy_task(50, seq_len=5, delay=7, num_symbols=4, seed=0)
    assert X.shape == Y.shape == (50, 17)
    np.testing.assert_array_equal(Y[:, 12:], X[:, :5])  # the symbols come back after S + D steps
    assert np.all(Y[:, :12] == 0)
    assert np.all(X[:, 11] == 5) and np.all(np.delete(X, 11, axis=1)[:, 5:] == 0)
    assert X[:, :5].min() >= 1 and X[:, :5].max() <= 4
    assert abs(copy_task_baseline_cross_entropy(5, 7, 4) - 5 * np.log(4) / 17) < 1e-12


@pytest.mark.parametrize(
    "date, expected",
    [
        (datetime.date(1998, 1, 3), "一九九八年一月三日"),
        (datetime.date(2008, 10, 20), "二〇〇八年十月二十日"),
        (datetime.date(1949, 12, 31), "一九四九年十二月三十一日"),
        (datetime.date(2000, 11, 15), "二〇〇〇年十一月十五日"),
    ],
)
def test_chinese_date(date, expected):
    assert chinese_date(date) == expected


def test_chinese_dates_are_valid_and_seeded():
    pairs = chinese_dates(300, seed=0)
    assert pairs == chinese_dates(300, seed=0)
    for source, target in pairs:
        date = datetime.date.fromisoformat(target)
        assert source == chinese_date(date) and len(target) == 10
        assert 1900 <= date.year <= 2099
    assert len({target for _, target in pairs}) > 290


def test_lstm_memory_cell_example():
    assert LSTM_CELL_EXAMPLE_INPUTS.tolist() == [[3, 1, 0], [4, 1, 0], [2, 0, 0], [1, 0, 1], [3, -1, 0]]
    np.testing.assert_array_equal(memory_cell_reference(LSTM_CELL_EXAMPLE_INPUTS), LSTM_CELL_EXAMPLE_OUTPUTS)
    np.testing.assert_array_equal(LSTM_CELL_EXAMPLE_OUTPUTS, [0, 0, 0, 7, 0])
