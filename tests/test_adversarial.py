"""The adversarial corpus graded end to end by ``course grade``'s pipeline, in the sandbox, two workers, against
every exercise set in ``solutions/`` (found at run time).

One submission per threat (see ``fixtures/adversarial/corpus.py``) is graded in the same run as two honest
students. For every threat: no undeserved points (no graded cell scores more than the control student ``bob``,
whose target cell is left as released), bounded time, the honest students' grades identical to a clean run,
the gradebook and everyone's files intact, no connection out of the sandbox, no process left behind.

Every exercise set gets the attacks that depend on its content (reading its solution, editing its tests,
patching its checks...); the attacks on the sandbox's limits (loops, memory, fork bomb, output, files that are
not notebooks) behave the same whatever the notebook and run against one set, ``PRIMARY``. All sets are graded in
one shared pool of two worker processes, so the workers' start-up is paid once.

The attacks with a payoff are also graded *without* the sandbox, where they must gain points: this proves
that they are real attacks, so that their scoring nothing in the sandbox means something.
"""

import copy
import csv
import hashlib
import multiprocessing
import shutil
import sqlite3
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from fixtures.adversarial.corpus import (
    CASES,
    FORGE_VERDICT,
    FORK_MARKER,
    HONEST,
    PWNED_NAME,
    build_corpus,
    cases_for,
    learner_notebook,
    released,
    solution_sources,
    target_of,
)
from net_helpers import CountingServer, processes_running

from course_lib.grading import release, sandbox
from course_lib.grading.grade import grade_assignment, grade_submission
from course_lib.grading.intake import Submission
from course_lib.grading.notebooks import nbgrader_meta, read_notebook
from course_lib.grading.sandbox import Limits
from course_lib.grading.scoring import expected_reports

ROOT = Path(__file__).resolve().parents[1]
SETS = release.assignment_names(ROOT)
PRIMARY = "rnn" if "rnn" in SETS else (SETS or [None])[0]
"""The set that also gets the attacks on the sandbox's limits, which do not depend on the notebook."""
LIMITS = Limits(cell_timeout=8, notebook_timeout=40, memory_mb=1024, max_processes=48, max_output_bytes=500_000)
"""Tight limits for PRIMARY, where loops and hogs test them."""
CONTENT_LIMITS = Limits(
    cell_timeout=30, notebook_timeout=120, memory_mb=1024, max_processes=48, max_output_bytes=500_000
)
"""Limits for the other sets, which get no attack on the limits: room for a set's slower honest cells (a demo
that loads a corpus) on a loaded machine."""


def limits_for(name):
    return LIMITS if name == PRIMARY else CONTENT_LIMITS


PRIMARY_BUDGET_S = 240  # wall-clock bound for grading the whole corpus on PRIMARY (about 20 submissions, 2 workers)
SET_BUDGET_S = 400  # ... the content attacks on another set (about 10 submissions; a set may load a corpus)
WORKERS = 2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("adversarial"),  # one worker builds the module's corpus once, not one per worker
    pytest.mark.skipif(
        shutil.which("bwrap") is None or not sandbox.sandbox_available()[0],
        reason="the bubblewrap sandbox is not usable here (tests/test_sandbox.py says why)",
    ),
    pytest.mark.skipif(not SETS, reason="no exercise set"),
]
SET_CASES = [(name, case) for name in SETS for case in cases_for(name, PRIMARY)]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def grade_corpus(base, name, cases, use_sandbox, pool):
    """Build the corpus of set ``name`` under ``base`` and grade it in ``pool``; returns a dict of everything the
    tests look at."""
    submissions, out = base / "submissions", base / "out"
    submissions.mkdir(parents=True)
    server = None
    try:
        context = {
            "solution_path": str(ROOT / "solutions" / name / f"{name}.ipynb"),
            "gradebook": str(out / "gradebook.db"),
            "grades_csv": str(out / "grades.csv"),
            "expected_cache_dir": str(out / ".cache"),
            "write_targets": [str(ROOT / "solutions" / name), str(ROOT / "course_lib"), str(out), str(ROOT)],
        }
        server = CountingServer(solution_sources(ROOT, name)[target_of(ROOT, name)])
        context = build_corpus(ROOT, name, submissions, dict(context, port=server.port), cases=cases)
        honest_files = {s: sha256(context[f"{s}_path"]) for s in HONEST}
        start = time.monotonic()
        results = grade_assignment(
            ROOT, name, submissions, out, workers=WORKERS, use_sandbox=use_sandbox, limits=limits_for(name), pool=pool
        )
        elapsed = time.monotonic() - start
    finally:
        if server is not None:
            server.close()
    return {
        "results": {r.student_id: r for r in results},
        "elapsed": elapsed,
        "accepted": server.accepted,
        "context": context,
        "honest_files_before": honest_files,
        "out": out,
    }


def points(result):
    return {v.grade_id: v.points for v in result.verdicts}


@pytest.fixture(scope="module")
def pool():
    """Two grading workers shared by every set's runs (spawned once: their imports are the slow part)."""
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


class PerSet(dict):
    """``{set: run}``, each set graded on first use (``-k sequences`` grades only that set)."""

    def __init__(self, grade):
        super().__init__()
        self.grade = grade

    def __missing__(self, name):
        self[name] = self.grade(name)
        return self[name]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, pool):
    """Each set's attacks and honest students, graded in the sandbox."""
    base = tmp_path_factory.mktemp("attacked")
    return PerSet(lambda name: grade_corpus(base / name, name, cases_for(name, PRIMARY), True, pool))


@pytest.fixture(scope="module")
def clean(tmp_path_factory, pool):
    """The honest students alone, graded in the sandbox: what their grades must be."""
    base = tmp_path_factory.mktemp("clean")
    return PerSet(lambda name: grade_corpus(base / name, name, [], True, pool))


@pytest.fixture(autouse=True, scope="module")
def no_repository_damage():
    """Fail loudly, and clean up, if a write attack reached the repository."""
    yield
    places = [ROOT, ROOT / "course_lib", *(ROOT / "solutions" / name for name in SETS)]
    planted = [place / PWNED_NAME for place in places if (place / PWNED_NAME).exists()]
    for path in planted:
        path.unlink()
    assert planted == [], f"an attack wrote into the repository: {planted}"


@pytest.mark.parametrize("name", SETS)
def test_every_submission_gets_exactly_one_row(attacked, name):
    with open(attacked[name]["out"] / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student_id"] for r in rows) == sorted([*HONEST, *cases_for(name, PRIMARY)])
    assert all(r["assignment"] == name for r in rows)
    assert "mallory" not in {r["student_id"] for r in rows}


@pytest.mark.parametrize("name", SETS)
def test_honest_students_grades_are_unaffected(attacked, clean, name):
    alice, bob = attacked[name]["results"]["alice"], attacked[name]["results"]["bob"]
    assert alice.score == alice.max_score > 0
    assert 0 < bob.score < bob.max_score  # the control loses the target's points: the comparison has teeth
    for student in HONEST:
        assert attacked[name]["results"][student].status == "ok"
        assert points(attacked[name]["results"][student]) == points(clean[name]["results"][student])


@pytest.mark.parametrize(("name", "case"), [(n, c) for n, c in SET_CASES if not CASES[c].not_a_notebook])
def test_no_undeserved_points(attacked, name, case):
    results = attacked[name]["results"]
    result, control = results[case], points(results["bob"])
    threat = CASES[case].threat
    assert result.max_score == results["alice"].max_score, threat  # edited points count for nothing
    assert set(points(result)) == set(control), threat
    gained = {cell: p for cell, p in points(result).items() if p > control[cell]}
    if CASES[case].target_works:  # later tasks that call the (working) target earn their points honestly
        gained = {cell: p for cell, p in gained.items() if cell == f"test_{target_of(ROOT, name)}"}
    assert gained == {}, f"{threat}: undeserved points in {gained} ({result.status}: {result.message})"
    if CASES[case].statuses:
        assert result.status in CASES[case].statuses, (threat, result.status, result.message)
    if CASES[case].fatal:
        assert result.score == 0, threat  # nothing after the target ran
    if result.status != "ok":
        assert result.message, threat  # the instructor is told what happened


@pytest.mark.parametrize(("name", "case"), [(n, c) for n, c in SET_CASES if CASES[c].not_a_notebook])
def test_what_is_not_a_notebook_gets_a_row_with_a_clear_status(attacked, name, case):
    result = attacked[name]["results"][case]
    assert not result.score
    assert result.status not in {"ok", "timeout", "memory", "crashed", "output-limit", "grader-error"}
    assert result.message


@pytest.mark.parametrize("name", SETS)
def test_every_submission_is_graded_in_bounded_time(attacked, name):
    per_submission = limits_for(name).notebook_timeout + sandbox.START_GRACE
    run = attacked[name]
    slow = {s: round(r.wall_s, 1) for s, r in run["results"].items() if r.wall_s > per_submission}
    assert slow == {}
    assert run["elapsed"] < (PRIMARY_BUDGET_S if name == PRIMARY else SET_BUDGET_S)


@pytest.mark.parametrize("name", SETS)
def test_the_gradebook_and_everyones_files_are_intact(attacked, name):
    run = attacked[name]
    out, context = run["out"], run["context"]
    for student in HONEST:
        assert sha256(context[f"{student}_path"]) == run["honest_files_before"][student], student
    assert not (out / PWNED_NAME).exists()
    with sqlite3.connect(out / "gradebook.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = dict(
            db.execute(
                "SELECT s.student_id, SUM(g.auto_score) FROM grade g "
                "JOIN submitted_notebook n ON g.notebook_id = n.id "
                "JOIN submitted_assignment s ON n.assignment_id = s.id GROUP BY s.student_id"
            ).fetchall()
        )
    for student in HONEST:
        assert stored[student] == pytest.approx(run["results"][student].score), student
    for case in cases_for(name, PRIMARY):
        if case in stored:
            assert stored[case] == pytest.approx(run["results"][case].score), case


@pytest.mark.parametrize("name", SETS)
def test_no_connection_leaves_the_sandbox(attacked, name):
    assert attacked[name]["accepted"] == 0


def test_no_process_outlives_its_submission(attacked):
    assert processes_running(FORK_MARKER) == []


@pytest.mark.parametrize("name", SETS)
def test_the_attacks_with_a_payoff_do_pay_off_without_the_sandbox(tmp_path, pool, name):
    """Sensitivity: unsandboxed, reading solutions/ or asking a local server earns the target's points."""
    payoff_cases = [c for c in cases_for(name, PRIMARY) if CASES[c].payoff]
    unsafe = grade_corpus(tmp_path, name, payoff_cases, False, pool)
    control = points(unsafe["results"]["bob"])
    target_tests = {cell for cell, p in points(unsafe["results"]["alice"]).items() if p > control[cell]}
    assert target_tests, "the target's tests should separate alice from bob"
    for case in payoff_cases:
        earned = points(unsafe["results"][case])
        assert all(earned[cell] > control[cell] for cell in target_tests), (case, earned, control)
    assert unsafe["accepted"] >= 1


RAW_RESTORED = 'checks.report(f"leaky_rnn_backward/{seed}/dh_changed_by", upstream - upstream_before)'
VERDICT_RESTORED = (
    'checks.report(f"leaky_rnn_backward/{seed}/dh_changed_by", bool(np.array_equal(upstream, upstream_before)))'
)


@pytest.mark.skipif(not (ROOT / "solutions" / "bptt").is_dir(), reason="no bptt exercise set")
def test_a_verdict_forged_in_the_kernel_earns_nothing(tmp_path):
    """Issue 16, item 1 (and issue 14): right gradients that change the caller's dh, with np.array_equal patched in
    the kernel. Against bptt as released it earns nothing; against the same set with a kernel-side verdict
    (``bool(np.array_equal(upstream, upstream_before))`` reported) it earns the task's points: the attack is real."""
    name = "bptt"
    source = read_notebook(ROOT / "solutions" / name / f"{name}.ipynb")
    target = target_of(ROOT, name)
    stub = next(c.source for c in released(ROOT, name).cells if nbgrader_meta(c).get("grade_id") == target)
    path = tmp_path / "mallory" / f"{name}.ipynb"
    path.parent.mkdir()
    path.write_text(learner_notebook(ROOT, name, dict(solution_sources(ROOT, name), **{target: stub + FORGE_VERDICT})))
    verdict_source = copy.deepcopy(source)
    cell = next(c for c in verdict_source.cells if nbgrader_meta(c).get("grade_id") == f"test_{target}")
    assert RAW_RESTORED in cell.source, "the bptt hidden test changed: update this test's old-style variant"
    cell.source = cell.source.replace(RAW_RESTORED, VERDICT_RESTORED)
    earned = {}
    for label, structure in (("raw", source), ("verdict", verdict_source)):
        expected = expected_reports(name, structure, tmp_path / label)
        result = grade_submission(
            Submission("mallory", str(path), path), name, structure, expected, limits=limits_for(name)
        )
        assert result.status == "ok", result.message
        earned[label] = points(result)
    assert earned["verdict"][f"test_{target}"] > 0  # the kernel's verdict was forged: undeserved points
    assert earned["raw"][f"test_{target}"] == 0  # the grader compares the raw x itself: nothing
    others = {cell: p for cell, p in earned["raw"].items() if cell != f"test_{target}"}
    assert all(p > 0 for p in others.values()), others  # the other answers are right and still count
