"""Synthetic tasks with known answers, every generator seeded (same seed, same data, on every machine).

- ``travel_request`` / ``slot_filling``  English travel requests with BIO slot labels (chapter *Sequence labelling*).
  The same
  city is the arrival city after "arrive" and the departure city after "leave"; with the cue *after* the
  city, a left-to-right RNN labelling the city has not seen the cue yet, and only a bidirectional one can
  know. ``gap`` filler words between the cue and the city make a tagger remember the cue over a chosen
  distance.
- ``adding_problem``  the long-range memory task of Hochreiter & Schmidhuber (1997), in the form of Le et
  al. (2015) (long-range memory): add the two numbers marked in a long sequence. Always answering 1 scores MSE 1/6.
- ``copy_task``  remember a short symbol sequence across a long blank delay, then write it out (long-range memory).
- ``chinese_dates``  一九九八年一月三日 -> 1998-01-03, for the encoder-decoder chapter (chapter *Encoder–decoder*).
- ``LSTM_CELL_EXAMPLE_INPUTS``  the hand-wired LSTM memory cell example of the lecture (chapter 5).
"""

from __future__ import annotations

import datetime

import numpy as np

# ----------------------------------------------------------------------------------------------- slot filling

CUES = ("arrive", "leave")
SLOT_LABELS = ("O", "B-arrival", "I-arrival", "B-departure", "I-departure", "B-date", "I-date")
CITIES = (
    "taipei",
    "beijing",
    "shanghai",
    "tokyo",
    "london",
    "paris",
    "boston",
    "new york",
    "hong kong",
    "san francisco",
    "los angeles",
    "kuala lumpur",
    "cape town",
    "rio de janeiro",
)
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
# Openings carry no information about the slot; they only vary the position of the city.
OPENINGS = ("", "i want to", "i would like to", "please help me", "we plan to", "my boss needs to")
# Neutral words put between the cue and the city (``gap``): they say nothing about the slot, so a tagger must carry
# the cue across them. None is a cue, a city word, a month, an ordinal or a template word.
FILLERS = ("sunny", "busy", "lovely", "old", "quiet", "rainy", "famous", "crowded", "historic", "modern")
# {cue_phrase} is "arrive in" or "leave"; the city comes after the cue ("before") or before it ("after").
TEMPLATES = {
    "before": (
        "{opening} {cue_phrase} {city} on {date}",
        "{opening} {cue_phrase} {city}",
        "on {date} {opening} {cue_phrase} {city}",
    ),
    "after": (
        "{city} is where i {cue_phrase} on {date}",
        "{city} on {date} is the city i {cue_phrase}",
        "{city} is the place we {cue_phrase}",
    ),
}
# Templates above with a date
_DATED_TEMPLATES = {"before": (0, 2), "after": (0, 1)}


def travel_request(
    city: str,
    cue: str,
    date: str | None = None,
    cue_position: str = "before",
    template: int = 0,
    opening: str = "i want to",
    fillers: tuple[str, ...] = (),
) -> tuple[list[str], list[str]]:
    """Build one labelled travel request, deterministically.

    Parameters
    ----------
    city
        a city name, one or more words (e.g. "new york")
    cue
        "arrive" (the city is the arrival city) or "leave" (the departure city)
    date
        e.g. "november second" or None; templates with a date need one
    cue_position
        "before" (the cue word comes before the city) or "after"
    template
        index into ``TEMPLATES[cue_position]``
    opening
        words at the start of "before" templates, e.g. "i want to"
    fillers
        words (label O) put between the cue and the city: right before the city when the cue comes
        before it ("arrive in sunny old taipei"), right after the city when the cue comes after it ("taipei
        sunny old is where i arrive"). Empty (the default): no filler

    Returns
    -------
    tokens
        list of lower-case words
    labels
        list of BIO labels from ``SLOT_LABELS``, one per token
    """
    if cue not in CUES:
        raise ValueError(f"cue must be one of {CUES}, got {cue!r}")
    pattern = TEMPLATES[cue_position][template]
    if "{date}" in pattern and date is None:
        raise ValueError(f"template {template} of {cue_position!r} needs a date")
    cue_phrase = "arrive in" if cue == "arrive" else "leave"
    slot = "arrival" if cue == "arrive" else "departure"
    tokens: list[str] = []
    labels: list[str] = []
    for piece in pattern.split():
        if piece == "{city}":
            if cue_position == "before":
                _append_others(tokens, labels, fillers)
            words, name = city.split(), slot
        elif piece == "{date}":
            words, name = date.split(), "date"
        else:
            text = piece.format(opening=opening, cue_phrase=cue_phrase)
            words, name = text.split(), None
        for position, word in enumerate(words):
            tokens.append(word)
            labels.append("O" if name is None else ("B-" if position == 0 else "I-") + name)
        if piece == "{city}" and cue_position == "after":
            _append_others(tokens, labels, fillers)
    return tokens, labels


def _append_others(tokens: list[str], labels: list[str], words) -> None:
    tokens.extend(words)
    labels.extend("O" for _ in words)


def slot_filling(num_examples: int, cue_position: str = "before", seed: int = 0, gap: int = 0) -> list[tuple]:
    """Random labelled travel requests (see ``travel_request``); arrive and leave are equally likely.

    Parameters
    ----------
    num_examples
        M
    cue_position
        "before", "after", or "mixed" (each example picks one at random)
    seed
        seed of the generator
    gap
        number of filler words, drawn at random from ``FILLERS``, between the cue and the city of every
        request. With 0 (the default) the generator draws exactly what it drew before ``gap`` existed

    Returns
    -------
    examples
        list of M pairs (tokens, labels), both lists of strings of equal length
    """
    if gap < 0:
        raise ValueError(f"gap must be a number of words, 0 or more, got {gap}")
    rng = np.random.default_rng(seed)
    examples = []
    for _ in range(num_examples):
        position = cue_position if cue_position != "mixed" else str(rng.choice(["before", "after"]))
        template = int(rng.integers(len(TEMPLATES[position])))
        date = f"{MONTHS[rng.integers(12)]} {ORDINALS[rng.integers(len(ORDINALS))]}"
        city, cue = CITIES[rng.integers(len(CITIES))], CUES[rng.integers(2)]
        opening = OPENINGS[rng.integers(len(OPENINGS))]
        # Draw fillers only when asked for, so that gap=0 leaves the random stream (and the data) as it was.
        fillers = tuple(FILLERS[i] for i in rng.integers(len(FILLERS), size=gap)) if gap > 0 else ()
        examples.append(
            travel_request(
                city=city,
                cue=cue,
                date=date,
                cue_position=position,
                template=template,
                opening=opening,
                fillers=fillers,
            )
        )
    return examples


# -------------------------------------------------------------------------------------------- adding problem


def adding_problem(num_examples: int, seq_len: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: the target is the sum of the two values marked with a 1.

    Each step carries two features: a value drawn uniformly from [0, 1) and a marker. Exactly one marker is
    1 in the first half of the sequence and one in the second half; the others are 0. Predicting the
    constant 1 (the mean of the target) gives a mean squared error of Var(U1 + U2) = 2/12 = 1/6: a model
    must beat that to show it remembers anything.

    Parameters
    ----------
    num_examples
        N
    seq_len
        T, the sequence length (at least 2)
    seed
        seed of the generator

    Returns
    -------
    X : ndarray, shape (N, T, 2), float64
        inputs, X[..., 0] the values, X[..., 1] the markers
    y : ndarray, shape (N,), float64
        targets
    """
    rng = np.random.default_rng(seed)
    half = seq_len // 2
    values = rng.random((num_examples, seq_len))
    markers = np.zeros((num_examples, seq_len))
    rows = np.arange(num_examples)
    first = rng.integers(0, half, size=num_examples)
    second = rng.integers(half, seq_len, size=num_examples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = np.stack([values, markers], axis=-1)
    y = values[rows, first] + values[rows, second]
    return X, y


ADDING_PROBLEM_BASELINE_MSE = 1.0 / 6.0


# ------------------------------------------------------------------------------------------------- copy task


def copy_task(
    num_examples: int, seq_len: int = 10, delay: int = 20, num_symbols: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The copy task: read S symbols, wait through a blank delay, then reproduce the symbols after a
    delimiter.

    Token indices: 0 is the blank, 1..K the symbols, K + 1 the delimiter ("now write it out"). With
    S = seq_len, D = delay and total length S + D + S:

        input : s_1 .. s_S   0 .. 0 (D - 1 blanks)   K+1   0 .. 0 (S blanks)
        target: 0 .. 0 (S + D blanks)                       s_1 .. s_S

    A model that outputs blanks and then guesses uniformly has cross-entropy S log(K) / (2S + D) per step
    (``copy_task_baseline_cross_entropy``).

    Parameters
    ----------
    num_examples
        N
    seq_len
        S, the number of symbols to remember
    delay
        D (at least 1), steps between the last symbol and the first one to write
    num_symbols
        K
    seed
        seed of the generator

    Returns
    -------
    X : ndarray, shape (N, 2S + D), int64
        inputs
    Y : ndarray, shape (N, 2S + D), int64
        targets, one per step
    """
    if delay < 1:
        raise ValueError("delay must be at least 1 (the delimiter takes one step)")
    rng = np.random.default_rng(seed)
    total = 2 * seq_len + delay
    symbols = rng.integers(1, num_symbols + 1, size=(num_examples, seq_len))
    X = np.zeros((num_examples, total), dtype=np.int64)
    Y = np.zeros((num_examples, total), dtype=np.int64)
    X[:, :seq_len] = symbols
    X[:, seq_len + delay - 1] = num_symbols + 1
    Y[:, seq_len + delay :] = symbols
    return X, Y


def copy_task_baseline_cross_entropy(seq_len: int = 10, delay: int = 20, num_symbols: int = 8) -> float:
    """Mean cross-entropy per step (nats) of the memoryless strategy: blanks, then uniform guesses."""
    return seq_len * np.log(num_symbols) / (2 * seq_len + delay)


# ----------------------------------------------------------------------------------------------------- dates

CHINESE_DIGITS = "〇一二三四五六七八九"


def chinese_number(value: int) -> str:
    """A month or day number (1..99) in Chinese numerals: 3 -> 三, 10 -> 十, 12 -> 十二, 31 -> 三十一."""
    if not 1 <= value <= 99:
        raise ValueError(f"only 1..99 are supported, got {value}")
    tens, units = divmod(value, 10)
    text = "" if tens == 0 else ("十" if tens == 1 else CHINESE_DIGITS[tens] + "十")
    return text + (CHINESE_DIGITS[units] if units else "")


def chinese_date(date: datetime.date) -> str:
    """A date written in Chinese numerals, the year digit by digit: 1998-01-03 -> 一九九八年一月三日."""
    year = "".join(CHINESE_DIGITS[int(digit)] for digit in f"{date.year:04d}")
    return f"{year}年{chinese_number(date.month)}月{chinese_number(date.day)}日"


def chinese_dates(
    num_examples: int, seed: int = 0, first_year: int = 1900, last_year: int = 2099
) -> list[tuple[str, str]]:
    """Random valid calendar dates as (Chinese numerals, ISO digits) pairs.

    Parameters
    ----------
    num_examples
        M
    seed
        seed of the generator
    first_year, last_year
        the range of years, both included

    Returns
    -------
    pairs
        list of M (source, target) strings, e.g. ('一九九八年一月三日', '1998-01-03'). Sources have 8
        to 12 characters, targets always 10.
    """
    rng = np.random.default_rng(seed)
    first = datetime.date(first_year, 1, 1).toordinal()
    last = datetime.date(last_year, 12, 31).toordinal()
    pairs = []
    for ordinal in rng.integers(first, last + 1, size=num_examples):
        date = datetime.date.fromordinal(int(ordinal))
        pairs.append((chinese_date(date), date.isoformat()))
    return pairs


# ------------------------------------------------------------------------ the hand-wired LSTM memory cell

# Each row is one time step (x1, x2, x3): x1 is a value; x2 = 1 writes x1 into the memory (adds it), x2 =
# -1 resets the memory; x3 = 1 opens the output. The memory holds 3, then 3 + 4 = 7, is read out at step 4,
# and is reset.
LSTM_CELL_EXAMPLE_INPUTS = np.array([[3, 1, 0], [4, 1, 0], [2, 0, 0], [1, 0, 1], [3, -1, 0]], dtype=float)
LSTM_CELL_EXAMPLE_OUTPUTS = np.array([0, 0, 0, 7, 0], dtype=float)


def memory_cell_reference(inputs) -> np.ndarray:
    """What the hand-wired memory cell is meant to compute, written as plain rules (no gates, no weights).

    Parameters
    ----------
    inputs : ndarray, shape (T, 3)
        rows (x1, x2, x3)

    Returns
    -------
    outputs : ndarray, shape (T,)
        the memory's content at steps with x3 = 1, else 0
    """
    memory = 0.0
    outputs = []
    for x1, x2, x3 in np.asarray(inputs, dtype=np.float64):
        if x2 == 1:
            memory += x1
        elif x2 == -1:
            memory = 0.0
        outputs.append(memory if x3 == 1 else 0.0)
    return np.array(outputs)
