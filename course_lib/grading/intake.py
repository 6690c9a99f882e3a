"""Find the submissions in a folder and whose they are, whatever shape a learning-management system gave them.

Accepted, one entry per student at the top of ``SUBMISSIONS_DIR``:

- a folder ``<student>/`` holding the notebook (``<assignment>.ipynb``, ``<assignment> (1).ipynb``, any single
  ``.ipynb``, or a zip of it, at any depth);
- a bare notebook ``<student>.ipynb``, also with the assignment's name or LMS decorations around the student's
  name (``alice_rnn.ipynb``, ``rnn_alice.ipynb``, ``alice_12345_67890_rnn (2).ipynb``);
- a zip ``<student>.zip`` holding the notebook.

Nothing here raises on a bad entry: every entry becomes a ``Submission``, and one that cannot be graded
carries a ``status`` saying why ("unidentified", "no-notebook", "ambiguous", "not-a-notebook",
"unreadable-zip", "duplicate"), so it still gets its row in grades.csv.
"""

import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from course_lib.grading import late
from course_lib.grading.notebooks import MAX_NOTEBOOK_BYTES, UnreadableNotebook

PENDING = "pending"
"""Status of a submission that was found and is ready to be graded."""

_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[-_ ]copy\d*)$", re.IGNORECASE)  # "rnn (1)", "rnn-copy2"
_MOODLE_SUFFIX = re.compile(r"_assignsubmission_\w*$")
_SEPARATORS = re.compile(r"[\s_\-.]+")
_IGNORED_PARTS = {"__macosx", ".ipynb_checkpoints"}


@dataclass
class Submission:
    """One entry of the submissions folder."""

    student_id: str
    origin: str  # where it came from, relative to the submissions folder (``bob.zip:work/rnn.ipynb``)
    path: Path | None = None  # the file to read: a notebook, or the zip holding it
    member: str | None = None  # the notebook's name inside the zip
    status: str = PENDING
    message: str = ""
    lms_id: str = ""  # the LMS's number for the student (Moodle participant id, Canvas user id), "" if none
    late: bool = False  # the LMS marked the file late ("LATE" in a Canvas file name)
    submitted_at: datetime | None = None  # when it was handed in, from nbgrader's timestamp.txt (naive UTC, as
    # nbgrader's gradebook keeps it); None if unknown

    @property
    def submitted(self):
        """``submitted_at`` as text (``late.utc_text``), ``""`` if unknown."""
        return late.utc_text(self.submitted_at)

    def read_bytes(self):
        """The notebook's raw bytes (from the file, or from the zip member).

        Returns
        -------
        bytes
            At most ``MAX_NOTEBOOK_BYTES + 1`` bytes from a zip.

        Raises
        ------
        UnreadableNotebook
            If they cannot be read safely (too large, unreadable file or zip).
        """
        try:
            if self.member is None:
                if self.path.stat().st_size > MAX_NOTEBOOK_BYTES:
                    raise UnreadableNotebook("too-large", f"{self.origin} is larger than {MAX_NOTEBOOK_BYTES} bytes")
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as archive:
                if archive.getinfo(self.member).file_size > MAX_NOTEBOOK_BYTES:  # a zip bomb stops here
                    raise UnreadableNotebook(
                        "too-large", f"{self.origin} unpacks to more than {MAX_NOTEBOOK_BYTES} bytes"
                    )
                with archive.open(self.member) as f:
                    return f.read(MAX_NOTEBOOK_BYTES + 1)
        except UnreadableNotebook:
            raise
        except (OSError, zipfile.BadZipFile, RuntimeError, KeyError, ValueError) as error:
            raise UnreadableNotebook("unreadable-zip" if self.member else "unreadable", str(error)) from None


def sanitize_student_id(text):
    """A student id safe as a file name and a database key: letters (any script), digits and ``.@+-_``.

    Parameters
    ----------
    text : str
        The name to clean.

    Returns
    -------
    str
        Other characters replaced by ``_``, at most 100 characters, ``"unknown"`` if nothing is left.
    """
    cleaned = re.sub(r"[^\w.@+-]+", "_", text.strip()).strip("._-")
    return cleaned[:100] or "unknown"


def _name_tokens(stem, assignment):
    """The words of a file name, without copy suffixes and the assignment's name.

    Parameters
    ----------
    stem : str
        The file name without its extension.
    assignment : str
        The exercise set.

    Returns
    -------
    list of str
    """
    stem = _COPY_SUFFIX.sub("", stem.strip())
    tokens = [t for t in _SEPARATORS.split(stem) if t]
    assignment_tokens = [t.lower() for t in _SEPARATORS.split(assignment) if t]
    width = len(assignment_tokens)
    for start in range(len(tokens) - width + 1):  # drop the assignment's name where it appears as whole words
        if [t.lower() for t in tokens[start : start + width]] == assignment_tokens:
            tokens = tokens[:start] + tokens[start + width :]
            break
    return tokens


def student_from_filename(stem, assignment):
    """The student's name hidden in a file name, or ``None`` when the name only names the assignment.

    ``alice`` -> alice; ``alice_rnn`` / ``rnn-alice`` -> alice; ``alice_12345_67890_rnn (2)`` (Canvas) ->
    alice; ``20230117`` -> 20230117; ``rnn (1)`` -> None. The LMS's numbers are in ``lms_details``.

    Parameters
    ----------
    stem : str
        The file name without its extension.
    assignment : str
        The exercise set.

    Returns
    -------
    str or None
        The name's words joined by ``_``, or None.
    """
    tokens = [t for t in _name_tokens(stem, assignment) if t.lower() not in {"late", "submission"}]
    if any(not t.isdigit() for t in tokens):  # LMS user and submission numbers beside a name
        tokens = [t for t in tokens if not t.isdigit()]
    return "_".join(tokens) or None


def lms_details(stem, assignment):
    """What an LMS wrote into a name beside the student's.

    The LMS id is the first number after a name: Moodle's participant id (``Wang Wei_11111`` of a folder
    ``Wang Wei_11111_assignsubmission_file_``), Canvas's user id (``wangwei_11111_67890_rnn``, the second number
    being the submission's). A name that is only a number (a student number) has no LMS id.

    Parameters
    ----------
    stem : str
        The file or folder name without its extension.
    assignment : str
        The exercise set.

    Returns
    -------
    lms_id : str
        The LMS id, ``""`` if none.
    late : bool
        True when the name carries Canvas's ``LATE`` marker.
    """
    tokens = _name_tokens(stem, assignment)
    late = any(t.lower() == "late" for t in tokens)
    words = [t for t in tokens if t.lower() not in {"late", "submission"}]
    numbers = [t for t in words if t.isdigit()]
    has_name = any(not t.isdigit() for t in words)
    return (numbers[0] if has_name and numbers else ""), late


def _identity(stem, assignment, fallback):
    """The student's identity from an entry's name.

    The student's name gets the LMS id appended when there is one, so that namesakes stay two students
    (``Wang_Wei_11111``, ``Wang_Wei_22222``).

    Parameters
    ----------
    stem : str
        The entry's name without its extension (or Moodle's suffix).
    assignment : str
        The exercise set.
    fallback : str
        The id to use when the name names no student.

    Returns
    -------
    student_id : str
    lms_id : str
    late : bool
        As in ``lms_details``.
    """
    who = student_from_filename(stem, assignment)
    lms_id, late = lms_details(stem, assignment)
    student_id = sanitize_student_id(who or fallback)
    if who and lms_id:
        student_id = sanitize_student_id(f"{who}_{lms_id}")
    return student_id, lms_id, late


def _is_ignored(relative_name):
    parts = Path(relative_name).parts
    return any(p.lower() in _IGNORED_PARTS or p.startswith((".", "~$")) for p in parts)


def pick_notebook(names, assignment):
    """Choose the notebook to grade among ``names``.

    Parameters
    ----------
    names : list of str
        Relative paths of the files of one entry.
    assignment : str
        The exercise set.

    Returns
    -------
    name : str or None
        The notebook chosen, or None.
    status : str
        ``PENDING``, ``"no-notebook"`` or ``"ambiguous"``.
    message : str
        What was found and chosen, ``""`` when there was one notebook.
    """
    notebooks = sorted(n for n in names if n.lower().endswith(".ipynb") and not _is_ignored(n))
    if len(notebooks) == 1:
        return notebooks[0], PENDING, ""
    if not notebooks:
        return None, "no-notebook", "no .ipynb notebook found"
    named = [n for n in notebooks if assignment.lower() in Path(n).stem.lower()]
    exact = [n for n in named if Path(n).stem.lower() == assignment.lower()]
    if exact:
        choice = exact[0]
    elif named:  # LMS re-uploads: "rnn (1)", "rnn (2)": the highest number is the latest
        choice = max(named, key=lambda n: [int(d) for d in re.findall(r"\d+", Path(n).stem)] or [0])
    else:
        return None, "ambiguous", f"{len(notebooks)} notebooks and none is named after {assignment!r}"
    return choice, PENDING, f"{len(notebooks)} notebooks found; graded {choice}"


def _from_zip(student_id, path, origin, assignment):
    try:
        with zipfile.ZipFile(path) as archive:
            names = [info.filename for info in archive.infolist() if not info.is_dir()]
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as error:
        return Submission(student_id, origin, path, status="unreadable-zip", message=f"not a readable zip: {error}")
    member, status, message = pick_notebook(names, assignment)
    shown = f"{origin}:{member}" if member else origin
    return Submission(student_id, shown, path, member, status, message)


def _from_folder(student_id, folder, origin, assignment):
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    member, status, message = pick_notebook(files, assignment)
    if member is not None:
        found = Submission(student_id, f"{origin}/{member}", folder / member, status=status, message=message)
        # nbgrader's submitted/<student>/<set>/timestamp.txt lies beside the notebook (or at the folder's top)
        when, note = late.read_timestamp((folder / member).parent)
        if when is None and not note:
            when, note = late.read_timestamp(folder)
        found.submitted_at = when.astimezone(timezone.utc).replace(tzinfo=None) if when else None
        found.message = "; ".join(m for m in (message, note) if m)
        return found
    zips = [f for f in files if f.lower().endswith(".zip") and not _is_ignored(f)]
    if len(zips) == 1:
        return _from_zip(student_id, folder / zips[0], f"{origin}/{zips[0]}", assignment)
    return Submission(student_id, origin, status=status, message=message)


def discover(assignment, submissions_dir):
    """Every submission in ``submissions_dir``, sorted by student id then origin.

    Entries that cannot be graded keep a non-``pending`` status; when two entries belong to the same student, the
    first (by origin) is graded and the others get status ``duplicate``.

    Parameters
    ----------
    assignment : str
        The exercise set.
    submissions_dir : str or pathlib.Path
        The folder of submissions.

    Returns
    -------
    list of Submission
    """
    root = Path(submissions_dir)
    found = []
    for name in sorted(os.listdir(root)):
        entry = root / name
        if _is_ignored(name) or entry.is_symlink():
            continue
        if entry.is_dir():  # Moodle names folders "Full Name_12345_assignsubmission_file_"
            student_id, lms_id, late = _identity(_MOODLE_SUFFIX.sub("", name), assignment, name)
            found.append(_from_folder(student_id, entry, name, assignment))
            found[-1].lms_id, found[-1].late = lms_id, late
            continue
        stem, suffix = os.path.splitext(name)
        who = student_from_filename(stem, assignment)
        student_id, lms_id, late = _identity(stem, assignment, stem)
        if who is None:
            found.append(
                Submission(
                    student_id,
                    name,
                    entry,
                    status="unidentified",
                    message=f"{name!r} does not say whose work it is: name it <student>{suffix} "
                    "or put it in a folder <student>/",
                )
            )
        elif suffix.lower() == ".ipynb":
            found.append(Submission(student_id, name, entry))
        elif suffix.lower() == ".zip":
            found.append(_from_zip(student_id, entry, name, assignment))
        else:
            found.append(
                Submission(
                    student_id,
                    name,
                    entry,
                    status="not-a-notebook",
                    message=f"{name!r} is neither a notebook (.ipynb) nor a zip",
                )
            )
        if who is not None:
            found[-1].lms_id, found[-1].late = lms_id, late
    found.sort(key=lambda s: (s.student_id, s.origin))
    first_origin = {}
    for submission in found:
        if submission.student_id in first_origin:
            submission.status = "duplicate"
            submission.message = (
                f"{submission.student_id} has more than one submission; graded "
                f"{first_origin[submission.student_id]} instead"
            )
        else:
            first_origin[submission.student_id] = submission.origin
    return found
