"""Late work: when a submission was handed in, and the late policy of ``course grade --deadline``.

Where the submission time comes from:

- nbgrader's ``timestamp.txt`` (``nbgrader submit`` writes it; ``nbgrader collect`` keeps it beside the notebook in
  ``submitted/<student>/<set>/``): the time is read from it (``2026-12-01 09:30:00.123456 UTC``; a time without a
  zone is taken as UTC);
- the LMS's ``LATE`` marker (Canvas puts it in the file name): the LMS knows the file is late but the download
  does not say by how much, so it counts as one day late, the least a late file can be, and the message says so.
  Moodle's and Canvas's downloads carry no submission time; for an exact time, use nbgrader's exchange or move
  the file to a folder ``<student>/`` with a ``timestamp.txt``.

The policy: each day or part of a day after the deadline costs ``per_day`` percent of the points earned, up to
``cap`` percent (default 100: a very late file can lose everything it earned). The penalty is in grades.csv
(``penalty``, points; ``score`` is after it), in the feedback page and in the nbgrader gradebook
(``late_submission_penalty``).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

TIMESTAMP_FILE = "timestamp.txt"


def utc_text(when):
    """A naive UTC time as grades.csv and the feedback show it (``2026-12-03 01:00:00+00:00``); ``""`` for None."""
    return when.replace(tzinfo=timezone.utc).isoformat(" ", "seconds") if when else ""


def parse_time(text):
    """A ``datetime`` (with a time zone) from an ISO time or nbgrader's ``YYYY-MM-DD HH:MM:SS[.ffffff] UTC``.

    Parameters
    ----------
    text : str
        The time; one without a zone is taken as UTC.

    Returns
    -------
    datetime
        The time, with a time zone.

    Raises
    ------
    ValueError
        If ``text`` is neither form.
    """
    text = " ".join(text.split())
    if text.upper().endswith(" UTC"):
        text = text[:-4] + "+00:00"
    elif text.upper().endswith("Z"):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def read_timestamp(folder):
    """The submission time in the ``timestamp.txt`` of ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        The submission's folder.

    Returns
    -------
    time : datetime or None
        The time read, or None if there is no file or it holds no readable time.
    message : str
        Why the time could not be read; ``""`` if it was read or there is no file.
    """
    path = folder / TIMESTAMP_FILE
    if not path.is_file():
        return None, ""
    try:
        return parse_time(path.read_text(encoding="utf-8", errors="replace")[:100]), ""
    except ValueError:
        return None, f"{TIMESTAMP_FILE} holds no time this grader can read: the submission is taken as on time"


@dataclass(frozen=True)
class LatePolicy:
    """``per_day`` percent of the earned points per day (or part of a day) late, at most ``cap`` percent."""

    deadline: datetime
    per_day: float = 0.0
    cap: float = 100.0

    def days_late(self, submitted):
        """Whole days late, a started day counting as one.

        Parameters
        ----------
        submitted : datetime
            The submission time (with a time zone, as the deadline).

        Returns
        -------
        int
            Days after the deadline, 0 if on time.
        """
        late_by = submitted - self.deadline
        return math.ceil(late_by / timedelta(days=1)) if late_by > timedelta(0) else 0

    def percent(self, days):
        return min(self.cap, self.per_day * days)


def apply_policy(result, policy):
    """Set ``result.late`` and ``result.penalty`` (points) under ``policy`` and say why in ``result.message``.

    Parameters
    ----------
    result : grade.SubmissionResult
        The graded submission, changed in place.
    policy : LatePolicy or None
        The late policy; ``None``: no deadline, no penalty.
    """
    if policy is None:
        return
    if result.submitted:
        days = policy.days_late(parse_time(result.submitted))
        why = f"submitted {result.submitted}, {days} day(s) after the deadline" if days else ""
    elif result.late:
        days, why = 1, "marked LATE by the LMS, which gives no time: counted as 1 day late"
    else:
        days, why = 0, ""
    result.late = result.late or days > 0
    if not days or not result.has_score:
        return
    percent = policy.percent(days)
    result.penalty = round(result.score * percent / 100, 2)
    deadline = policy.deadline.strftime("%Y-%m-%d %H:%M %Z")
    note = (
        f"late: {why} ({deadline}); penalty {percent:g}% of the {result.score:g} points earned = "
        f"{result.penalty:g} point(s)"
    )
    result.message = "; ".join(m for m in (result.message, note) if m)
