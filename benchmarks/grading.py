"""Benchmark ``course grade``: a simulated class of 40 graded with 1 and with 2 workers.

Prints submissions per minute for each worker count, the speed-up of 2 workers over 1, and the per-submission
overhead beyond the notebook's own compute: (wall time with 1 worker - the cells' own time) / N.
The cells' own time is measured by running each distinct notebook of the class once, with nbclient's per-cell
timing, in a plain kernel. Targets (issue 6): overhead <= 2 s per submission; 2 workers >= 1.7x one worker.

    .venv/bin/python benchmarks/grading.py                      # the rnn exercise set, in the sandbox
    .venv/bin/python benchmarks/grading.py --assignment bptt --students 20 --unsafe-no-sandbox
"""

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from course_lib.grading import execution, release  # noqa: E402
from course_lib.grading.grade import grade_assignment  # noqa: E402
from course_lib.grading.notebooks import (  # noqa: E402
    is_solution_cell,
    nbgrader_meta,
    notebook_text,
    read_notebook,
    rebuild,
    release_notebook,
)
from course_lib.grading.scoring import expected_reports  # noqa: E402


def class_variants(source_nb):
    """Three kinds of submission: the solution, the untouched exercise, and the solution with its last answer
    left blank (partly right). Returns ``{kind: notebook text}``."""
    released = release_notebook(source_nb)
    partly = rebuild(source_nb, {}, blank_nb=source_nb)
    answer_cells = [c for c in partly.cells if is_solution_cell(c)]
    blank_of = {nbgrader_meta(c)["grade_id"]: c.source for c in released.cells if is_solution_cell(c)}
    answer_cells[-1].source = blank_of[nbgrader_meta(answer_cells[-1])["grade_id"]]
    return {
        "solution": notebook_text(source_nb),
        "blank": notebook_text(released),
        "partly": notebook_text(partly),
    }


def cells_compute_seconds(notebook_text_by_kind, source_nb):
    """Seconds the cells of each kind of notebook take on their own (one kernel, nbclient timing)."""
    import nbformat

    seconds = {}
    for kind, text in notebook_text_by_kind.items():
        learner = {nbgrader_meta(c)["grade_id"]: c.source for c in nbformat.reads(text, 4).cells if is_solution_cell(c)}
        result = execution.run_trusted(rebuild(source_nb, learner))
        seconds[kind] = execution.compute_seconds(result.nb) or 0.0
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = "rnn" if "rnn" in release.assignment_names(REPO) else None
    parser.add_argument("--assignment", default=default, help="exercise set to grade (default: rnn)")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--unsafe-no-sandbox", action="store_true")
    args = parser.parse_args()
    root, name = REPO, args.assignment
    if name is None:  # no exercise set yet: the tests' tiny fixture
        root, name = REPO / "tests" / "fixtures" / "course", "tiny"
    use_sandbox = not args.unsafe_no_sandbox
    if use_sandbox and not execution.sandbox_state()[0]:
        sys.exit(f"no sandbox: {execution.sandbox_state()[1]} (pass --unsafe-no-sandbox)")

    source = read_notebook(release.source_path(root, name))
    variants = class_variants(source)
    kinds = [list(variants)[i % len(variants)] for i in range(args.students)]
    work = Path(tempfile.mkdtemp(prefix="grading-bench-"))
    try:
        submissions = work / "submissions"
        submissions.mkdir()
        for i, kind in enumerate(kinds):
            (submissions / f"student{i:03d}.ipynb").write_text(variants[kind], encoding="utf-8")
        cache = work / "cache"
        expected_reports(name, source, cache)  # computed once per exercise set, not per grading run
        compute = cells_compute_seconds(variants, source)
        class_compute = sum(compute[kind] for kind in kinds)

        print(
            f"grading benchmark, {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
            f"{os.cpu_count()} CPU(s), "
            f"load {os.getloadavg()[0]:.1f}, exercise set {name!r}, {args.students} submissions, "
            f"{'sandbox' if use_sandbox else 'NO sandbox'}"
        )
        print(
            f"cells' own compute: {', '.join(f'{k} {v:.2f} s' for k, v in compute.items())}; "
            f"class total {class_compute:.1f} s"
        )
        walls = {}
        for workers in args.workers:
            out = work / f"out-{workers}"
            shutil.copytree(cache, out / ".cache")
            start = time.perf_counter()
            results = grade_assignment(root, name, submissions, out, workers=workers, use_sandbox=use_sandbox)
            walls[workers] = time.perf_counter() - start
            statuses = sorted({r.status for r in results})
            for r in results:
                if r.status != "ok":  # a correct notebook should never get here: show why it did
                    print(f"  {r.student_id}: {r.status}: {r.message}")
            print(
                f"{workers} worker(s): {walls[workers]:6.1f} s, {60 * args.students / walls[workers]:6.1f} "
                f"submissions/minute, statuses {statuses}"
            )
            if workers == 1:
                # where the overhead goes: a submission's wall time is almost all sandbox + kernel start-up
                per_submission = sum(r.wall_s for r in results) / len(results)
                bookkeeping = walls[1] / len(results) - per_submission
                print(
                    f"  per submission: {per_submission:.2f} s from reading it to its score, "
                    f"{bookkeeping:.2f} s for the rest (gradebook set-up and writes, feedback, csv)"
                )
        if 1 in walls:
            overhead = (walls[1] - class_compute) / args.students
            print(f"overhead beyond the notebook's own compute: {overhead:.2f} s per submission (target <= 2 s)")
        if 1 in walls and 2 in walls:
            print(f"speed-up with 2 workers: {walls[1] / walls[2]:.2f}x (target >= 1.7x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
