"""``course release``: regenerate ``exercises/`` (what learners download) from ``solutions/`` (sources).

The layout follows nbgrader's: ``solutions/<name>/<name>.ipynb`` is released to
``exercises/<name>/<name>.ipynb`` (``nbgrader_config.py`` sets ``source_directory = "solutions"`` and
``release_directory = "exercises"``). Releasing is deterministic: no timestamps, outputs or execution counts,
so re-running it on unchanged sources rewrites byte-identical files and the committed ``exercises/`` can be
checked for being in sync.
"""

from pathlib import Path

from course_lib.grading.audit import kernel_judgements, manually_graded_cells
from course_lib.grading.notebooks import notebook_text, read_notebook, release_notebook, write_atomically

SOURCE_DIR = "solutions"
RELEASE_DIR = "exercises"


class ReleaseError(ValueError):
    """A source notebook that must not be released as it is; the message lists what to fix."""


def find_course_root(start=None):
    """The nearest folder at or above ``start`` holding ``nbgrader_config.py`` and a ``solutions/`` folder.

    Parameters
    ----------
    start : str or pathlib.Path, optional
        Where to start (default: the current folder).

    Returns
    -------
    pathlib.Path
        The course root, resolved; falls back to ``start`` itself.
    """
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / SOURCE_DIR).is_dir():
            return folder
    return start


def assignment_names(root):
    """Names of the exercise sets in ``root/solutions`` (every ``<name>/<name>.ipynb``), sorted.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.

    Returns
    -------
    list of str
        The names (``[]`` if there is no ``solutions/`` folder).
    """
    source_dir = Path(root) / SOURCE_DIR
    if not source_dir.is_dir():
        return []
    return sorted(p.name for p in source_dir.iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_path(root, name):
    """The source notebook ``root/solutions/<name>/<name>.ipynb``.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.
    name : str
        The exercise set.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If it is missing; the message names the known sets.
    """
    path = Path(root) / SOURCE_DIR / name / f"{name}.ipynb"
    if not path.is_file():
        known = ", ".join(assignment_names(root)) or "none"
        raise FileNotFoundError(f"no exercise set {name!r}: {path} does not exist (known: {known})")
    return path


def release_path(root, name):
    """The released notebook ``root/exercises/<name>/<name>.ipynb``.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.
    name : str
        The exercise set.

    Returns
    -------
    pathlib.Path
    """
    return Path(root) / RELEASE_DIR / name / f"{name}.ipynb"


def released_text(root, name):
    """The exact text ``course release`` writes for assignment ``name``.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.
    name : str
        The exercise set.

    Returns
    -------
    str
        The released notebook's text.

    Raises
    ------
    ReleaseError
        If a test cell reports a verdict computed in the learner's kernel, or if a cell is meant to be graded by
        hand, which ``course grade`` cannot do (see ``audit``).
    FileNotFoundError
        If the source notebook is missing.
    """
    path = source_path(root, name)
    source = read_notebook(path)
    problems = manually_graded_cells(source) + kernel_judgements(source)
    if problems:
        raise ReleaseError(f"{path} cannot be released:\n  " + "\n  ".join(problems))
    return notebook_text(release_notebook(source))


def release_assignment(root, name):
    """Write the released notebook of ``name``.

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.
    name : str
        The exercise set.

    Returns
    -------
    path : pathlib.Path
        The released notebook.
    changed : bool
        False if the file already held the same text (it is then not rewritten).
    """
    text = released_text(root, name)
    path = release_path(root, name)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)
    return path, True


def release(root, names=None):
    """Release ``names`` (default: every set in ``solutions/``).

    Parameters
    ----------
    root : str or pathlib.Path
        The course root.
    names : list of str, optional
        The exercise sets.

    Returns
    -------
    list of tuple (pathlib.Path, bool)
        ``(path, changed)`` per set (see ``release_assignment``).
    """
    return [release_assignment(root, name) for name in (names or assignment_names(root))]
