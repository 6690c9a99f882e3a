"""``course release``: exercises/ is generated from solutions/ deterministically, with answers and hidden
tests removed and everything else kept."""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from fixtures.simulated_class import COURSE

from course_lib import cli
from course_lib.grading import release
from course_lib.grading.notebooks import graded_cells, nbgrader_meta, read_notebook


@pytest.fixture
def course(tmp_path):
    """A private copy of the fixture course, without its released exercises."""
    root = tmp_path / "course"
    shutil.copytree(COURSE, root)
    shutil.rmtree(root / "exercises")
    return root


def test_release_writes_the_learner_version(course):
    assert release.assignment_names(course) == ["tiny"]
    assert cli.main(["--root", str(course), "release"]) == 0
    source = read_notebook(course / "solutions" / "tiny" / "tiny.ipynb")
    released = read_notebook(course / "exercises" / "tiny" / "tiny.ipynb")
    text = (course / "exercises" / "tiny" / "tiny.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert "default_rng(7)" not in text  # hidden test code is gone
    assert "return 2 * np.asarray" not in text  # the answer is gone
    assert text.count("raise NotImplementedError()") == 3  # one stub per answer cell
    assert "double(np.array([1.0, 2.0]))" in text  # visible tests stay
    assert [nbgrader_meta(c)["grade_id"] for c in released.cells] == [
        nbgrader_meta(c)["grade_id"] for c in source.cells
    ]
    assert graded_cells(released) == graded_cells(source)  # same points
    for cell in released.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if not nbgrader_meta(cell)["solution"]:
            assert cell.metadata["editable"] is False  # nbgrader locks read-only and test cells
    nbformat.validate(released)


def test_release_is_byte_identical_on_rerun(course, capsys):
    release.release(course)
    path = course / "exercises" / "tiny" / "tiny.ipynb"
    first = path.read_bytes()
    path.write_bytes(first)  # touch: content decides, not time
    assert release.release(course) == [(path, False)]
    assert path.read_bytes() == first
    capsys.readouterr()
    assert cli.main(["--root", str(course), "release"]) == 0
    assert "unchanged" in capsys.readouterr().out


def test_release_check_reports_stale_exercises(course, capsys):
    assert cli.main(["--root", str(course), "release", "--check"]) == 1  # never released
    release.release(course)
    assert cli.main(["--root", str(course), "release", "--check"]) == 0
    source = course / "solutions" / "tiny" / "tiny.ipynb"
    source.write_text(source.read_text(encoding="utf-8").replace("Tiny exercise set", "Tiny set"), encoding="utf-8")
    assert cli.main(["--root", str(course), "release", "--check"]) == 1
    assert "out of date" in capsys.readouterr().out


def test_release_leaves_the_source_alone(course):
    source = course / "solutions" / "tiny" / "tiny.ipynb"
    before = source.read_bytes()
    release.release(course, ["tiny"])
    assert source.read_bytes() == before


def test_unknown_assignment_is_a_clear_error(course):
    with pytest.raises(FileNotFoundError, match="known: tiny"):
        release.release(course, ["nope"])


def test_fixture_exercises_are_in_sync():
    """The committed fixture release must be what ``course release`` writes (re-run it after editing)."""
    assert (COURSE / "exercises" / "tiny" / "tiny.ipynb").read_text(encoding="utf-8") == release.released_text(
        COURSE, "tiny"
    )


def _add_to_first_test_cell(course, code):
    path = course / "solutions" / "tiny" / "tiny.ipynb"
    nb = read_notebook(path)
    cell = next(c for c in nb.cells if nbgrader_meta(c).get("grade"))
    cell.source += "\n### BEGIN HIDDEN TESTS\n" + code + "\n### END HIDDEN TESTS\n"
    nbformat.write(nb, path)


@pytest.mark.parametrize(
    "code",
    [
        "checks.report('restored', bool(np.allclose(x, x_before, rtol=0, atol=1e-12)))",
        "ok = np.array_equal(x, x_before)\nchecks.report('restored', ok)",
        "checks.report('positive', float(x.sum() > 0))",
        "checks.assert_close(np.isclose(x, 1.0), True, 'x')",
    ],
)
def test_release_refuses_a_test_that_reports_a_verdict_of_the_kernel(course, capsys, code):
    _add_to_first_test_cell(course, code)
    with pytest.raises(release.ReleaseError, match="report the raw values"):
        release.release(course)
    assert cli.main(["--root", str(course), "release"]) == 2
    error = capsys.readouterr().err
    assert "cannot be released" in error and "line" in error and "Traceback" not in error
    assert not (course / "exercises" / "tiny" / "tiny.ipynb").exists()


def test_release_accepts_raw_reports_and_verdicts_that_only_raise(course):
    _add_to_first_test_cell(
        course,
        "x_change = x - x_before\nchecks.report('restored', x_change)\n"
        "if not np.allclose(x, x_before):\n    raise AssertionError('x changed')",  # raising only takes points away
    )
    assert release.release(course) == [(course / "exercises" / "tiny" / "tiny.ipynb", True)]


@pytest.mark.slow
def test_nbgrader_generate_assignment_works_in_a_fresh_checkout(tmp_path):
    """Issue 16, item 10: nbgrader_config.py named a gradebook in a folder that a fresh checkout lacks, so
    ``nbgrader generate_assignment --force`` failed. It must work there, and again after deleting the release."""
    import subprocess
    import sys
    from pathlib import Path

    root = tmp_path / "course"
    shutil.copytree(COURSE / "solutions", root / "solutions")
    shutil.copyfile(Path(__file__).resolve().parents[1] / "nbgrader_config.py", root / "nbgrader_config.py")
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    for _ in range(2):
        done = subprocess.run(
            [str(Path(sys.executable).parent / "nbgrader"), "generate_assignment", "tiny", "--force"],
            cwd=root, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0 and "ERROR" not in done.stderr + done.stdout, done.stderr[-2000:]
        assert (root / "exercises" / "tiny" / "tiny.ipynb").is_file()
        shutil.rmtree(root / "exercises")  # "after deleting the release"


@pytest.mark.parametrize(
    "cell_type, meta, kind",
    [
        ("markdown", {"solution": True, "grade": True, "points": 2}, "answer"),  # a free-text answer
        ("code", {"solution": True, "grade": True, "points": 2}, "answer"),  # code graded by hand
        ("markdown", {"task": True, "points": 3}, "task"),
    ],
)
def test_release_refuses_a_manually_graded_cell(course, capsys, cell_type, meta, kind):
    """Issue 16, item 8: a 2-point free-text answer was silently ignored (the maximum stayed the same)."""
    path = course / "solutions" / "tiny" / "tiny.ipynb"
    nb = read_notebook(path)
    cell = nbformat.v4.new_markdown_cell("Explain.") if cell_type == "markdown" else nbformat.v4.new_code_cell("")
    cell.metadata["nbgrader"] = dict(meta, grade_id="explain", locked=False, schema_version=3)
    nb.cells.append(cell)
    nbformat.write(nb, path)
    with pytest.raises(release.ReleaseError, match=f"'explain' is a manually graded {kind}"):
        release.release(course)
    assert cli.main(["--root", str(course), "release"]) == 2
    assert "points would be lost" in capsys.readouterr().err


def test_released_code_lines_fit_a_notebook_window():
    """A learner reads the visible tests: no code line of a released set runs past 150 characters (expected arrays
    are wrapped after commas; a few long hint strings stay between 120 and 150)."""
    root = Path(__file__).resolve().parents[1]
    too_long = [
        (path.parent.name, nbgrader_meta(cell).get("grade_id"), len(line))
        for path in sorted((root / "exercises").glob("*/*.ipynb"))
        for cell in read_notebook(path).cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > 150
    ]
    assert not too_long, f"(set, cell, length) of code lines over 150 characters: {too_long}"
