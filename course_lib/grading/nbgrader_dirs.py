"""nbgrader's own folders for what ``course grade`` graded, so that formgrader and ``nbgrader release_feedback`` work.

``nbgrader autograde`` cannot grade this course (its hidden tests only report values; see the instructor guide),
but formgrader and ``nbgrader release_feedback`` read what it would have written. ``course grade
--nbgrader-course DIR`` writes the same things from the trusted grader's results, in nbgrader's default layout
``DIR/{nbgrader_step}/{student_id}/{assignment_id}/``:

- ``autograded/<student>/<set>/<set>.ipynb``: the notebook as it ran in the sandbox, which formgrader's
  submission view shows beside the scores of the gradebook;
- ``feedback/<student>/<set>/<set>.html``: the student's feedback page, which ``nbgrader release_feedback``
  publishes to the exchange.

Both folders get a copy of the ``timestamp.txt`` and ``submission_secret.txt`` that ``nbgrader collect`` left
beside the submission: formgrader counts a submission as graded only when the gradebook's time equals
``submitted/``'s, and the secret names the page a student's ``nbgrader fetch_feedback`` looks for.
"""

import os
import shutil
from pathlib import Path

from course_lib.grading.notebooks import write_atomically

KEPT_FILES = ("timestamp.txt", "submission_secret.txt")


def student_folder(course_dir, step, student_id, name):
    """The folder ``course_dir/step/student_id/name``.

    Parameters
    ----------
    course_dir : str or pathlib.Path
        The nbgrader course directory.
    step : str
        nbgrader's step folder (``"autograded"``, ``"feedback"``).
    student_id : str
        The student's id, which must be one folder name.
    name : str
        The exercise set.

    Returns
    -------
    pathlib.Path
        The folder (not created).

    Raises
    ------
    ValueError
        For an id that is not one folder name.
    """
    if student_id in ("", ".", "..") or "/" in student_id or os.sep in student_id:
        raise ValueError(f"student id {student_id!r} cannot be an nbgrader folder name")
    return Path(course_dir) / step / student_id / name


def write_student_folders(course_dir, name, result, feedback_html):
    """Write ``result``'s autograded notebook (if it ran) and feedback page under ``course_dir``.

    An earlier run's folders of this student and set are replaced, so formgrader never shows a notebook the grades no
    longer come from.

    Parameters
    ----------
    course_dir : str or pathlib.Path
        The nbgrader course directory.
    name : str
        The exercise set.
    result : grade.SubmissionResult
        The graded submission.
    feedback_html : str
        Its feedback page (HTML text).

    Returns
    -------
    list of pathlib.Path
        The folders written.
    """
    source = Path(result.source_dir) if result.source_dir else None
    files = {"feedback": (f"{name}.html", feedback_html)}
    if result.executed_nb:
        files["autograded"] = (f"{name}.ipynb", result.executed_nb)
    written = []
    for step in ("autograded", "feedback"):
        folder = student_folder(course_dir, step, result.student_id, name)
        if folder.exists():
            shutil.rmtree(folder)
        if step not in files:
            continue
        folder.mkdir(parents=True)
        filename, text = files[step]
        write_atomically(folder / filename, text)
        for kept in KEPT_FILES:
            if source is not None and (source / kept).is_file():
                shutil.copyfile(source / kept, folder / kept)
        written.append(folder)
    return written
