"""Where the reference implementations hide, so that the sandbox can cover every form of them.

A submission must not reach ``course_lib.nn_numpy``, ``gradcheck`` and the other modules that hold the answers.
Covering ``gradcheck.py`` alone is not enough: every normal import leaves its byte code in
``__pycache__/gradcheck.cpython-311.pyc``, which ``importlib.machinery.SourcelessFileLoader`` loads as easily;
a ``pip install .`` leaves a whole copy in site-packages; an editable install's finder names the checkout's
folder. ``hidden_paths`` lists all of these, afresh at every sandbox start.
"""

import ast
import os
import sys
import sysconfig
from pathlib import Path


def _is_under(path, roots):
    return any(path == Path(r) or Path(r) in path.parents for r in roots)


def _editable_mapping(finder_file):
    """The ``MAPPING`` dict of a setuptools editable-install finder (``__editable___*_finder.py``).

    Parameters
    ----------
    finder_file : str or pathlib.Path
        The finder's file.

    Returns
    -------
    dict
        The mapping, or {} if the file cannot be read or holds none.
    """
    try:
        tree = ast.parse(Path(finder_file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign):
            target = node.target
        elif isinstance(node, ast.Assign):
            target = node.targets[0]
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "MAPPING" and node.value is not None:
            try:
                mapping = ast.literal_eval(node.value)
            except ValueError:
                return {}
            return mapping if isinstance(mapping, dict) else {}
    return {}


def _site_dirs():
    """Directories where an installed copy of course_lib or an editable-install finder may sit.

    Returns
    -------
    list of str
        Existing directories: site-packages and ``sys.path``, without duplicates.
    """
    paths = sysconfig.get_paths()
    return [p for p in dict.fromkeys([paths["purelib"], paths["platlib"], *sys.path]) if p and os.path.isdir(p)]


def package_copies(package_dir, roots):
    """Every folder visible inside the sandbox that holds ``course_lib``'s code.

    These are ``package_dir`` (bound at its own path), a copy installed in site-packages (``pip install .``), any
    ``course_lib`` on ``sys.path``, and the folder an editable install's finder maps ``course_lib`` to, where they lie
    under ``roots``.

    Parameters
    ----------
    package_dir : str or pathlib.Path
        The ``course_lib`` folder bound into the sandbox.
    roots : list of str or pathlib.Path
        The folders bound into the sandbox.

    Returns
    -------
    list of pathlib.Path
        The folders, resolved and sorted.
    """
    package_dir = Path(package_dir).resolve()
    copies = {package_dir}
    for entry in _site_dirs():
        copies.add(Path(entry) / "course_lib")
        for finder in Path(entry).glob("__editable__*finder.py"):
            target = _editable_mapping(finder).get("course_lib")
            if isinstance(target, str):
                copies.add(Path(target))
    visible = set()
    for copy in copies:
        if copy.is_dir():
            resolved = copy.resolve()
            if resolved == package_dir or _is_under(resolved, roots):
                visible.add(resolved)
    return sorted(visible)


def hidden_paths(package_dir, roots, names):
    """The paths the sandbox must cover (folders with an empty tmpfs, files with /dev/null).

    Computed at each sandbox start, so caches written since the last one are covered too.

    Parameters
    ----------
    package_dir : str or pathlib.Path
        The ``course_lib`` folder bound into the sandbox.
    roots : list of str or pathlib.Path
        The other folders bound into it.
    names : iterable of str
        What to hide in the package (``"nn_numpy"``, ``"gradcheck.py"``...).

    Returns
    -------
    list of pathlib.Path
        Each of ``names`` in every copy of course_lib (``package_copies``), as source, as byte code in
        ``__pycache__`` (any interpreter's tag, optimised or not), as a sourceless ``.pyc`` beside the package's
        modules, and under ``sys.pycache_prefix`` when one is set.
    """
    stems = {Path(name).stem for name in names}
    hidden = []
    for package in package_copies(package_dir, roots):
        places = [package]
        if sys.pycache_prefix:  # byte code mirrored under a separate tree: PYTHONPYCACHEPREFIX
            mirror = Path(sys.pycache_prefix) / package.relative_to(package.anchor)
            if mirror.is_dir() and _is_under(mirror.resolve(), [*roots, package_dir]):
                places.append(mirror.resolve())
        for place in places:
            for folder in (place, place / "__pycache__"):
                if not folder.is_dir():
                    continue
                for entry in sorted(folder.iterdir()):
                    kind_ok = not entry.is_symlink() and (entry.is_dir() or entry.is_file())
                    if entry.name.split(".")[0] in stems and kind_ok:
                        hidden.append(entry)
    return hidden
