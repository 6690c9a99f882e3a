"""The ``course`` command: release exercise sets, self-check a notebook, autograde a class.

course release [NAME ...]      regenerate exercises/ from solutions/ (deterministic)
course check NOTEBOOK          run the visible tests of your notebook; exit 0 iff all pass
course grade NAME SUBMISSIONS --out DIR [--db URL] [--workers N] [--student ID] [--unsafe-no-sandbox]
"""

import argparse
import sys
from pathlib import Path

from course_lib.grading import execution
from course_lib.grading.release import find_course_root


def _release(args):
    from course_lib.grading.release import ReleaseError

    try:
        return _release_or_check(args)
    except ReleaseError as error:
        print(f"course release: {error}", file=sys.stderr)
        return 2


def _release_or_check(args):
    from course_lib.grading.release import release, release_path, released_text

    root = find_course_root(args.root)
    if args.check:  # report, write nothing: for CI and the sync test
        stale = [
            n
            for n in (args.names or _names(root))
            if not release_path(root, n).is_file()
            or release_path(root, n).read_text(encoding="utf-8") != released_text(root, n)
        ]
        for name in stale:
            print(f"out of date: {release_path(root, name)} (run: course release {name})")
        return 1 if stale else 0
    for path, changed in release(root, args.names or None):
        print(f"{'wrote    ' if changed else 'unchanged'} {path.relative_to(root)}")
    return 0


def _names(root):
    from course_lib.grading.release import assignment_names

    return assignment_names(root)


def _check(args):
    from course_lib.grading.check import check_notebook, format_report
    from course_lib.grading.notebooks import UnreadableNotebook

    try:
        report = check_notebook(
            args.notebook, root=args.root, assignment=args.assignment, cell_timeout=args.cell_timeout
        )
    except (OSError, UnreadableNotebook) as error:
        print(f"course check: cannot read {args.notebook}: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0 if report.all_passed else 1


def _grade(args):
    from course_lib.grading.grade import grade_assignment
    from course_lib.grading.gradebook import GradebookUnavailable, database_url, redact_url
    from course_lib.grading.scoring import SolutionError

    usable, why = execution.sandbox_state()
    if not usable and not args.unsafe_no_sandbox:
        print(
            f"course grade: refusing to run untrusted notebooks without the sandbox ({why}).\n"
            "Install bubblewrap (Debian: apt-get install bubblewrap), or pass --unsafe-no-sandbox to grade "
            "trusted notebooks without it.",
            file=sys.stderr,
        )
        return 2
    if args.unsafe_no_sandbox:
        print(
            "WARNING: --unsafe-no-sandbox: submissions run with all of your rights (files, network). "
            "Use only for notebooks you trust.",
            file=sys.stderr,
        )
    overrides = {
        k: v
        for k, v in (
            ("cell_timeout", args.cell_timeout),
            ("notebook_timeout", args.notebook_timeout),
            ("memory_mb", args.memory_mb),
        )
        if v is not None
    }
    limits = execution.make_limits(**overrides) if overrides else None
    root = find_course_root(args.root)

    def progress(result):
        print(
            f"  {result.student_id:<24} {result.score:>6g} / {result.max_score:g}  {result.status}"
            + (f"  ({result.message})" if result.message and result.status != "ok" else ""),
            file=sys.stderr,
        )

    print(
        f"Grading {args.assignment} from {args.submissions} into {args.out} "
        f"(gradebook {redact_url(database_url(args.db, args.out))}, {args.workers} worker(s))",
        file=sys.stderr,
    )
    if not Path(args.submissions).is_dir():
        print(f"course grade: {args.submissions} is not a folder of submissions", file=sys.stderr)
        return 2
    try:
        results = grade_assignment(
            root,
            args.assignment,
            args.submissions,
            args.out,
            db=args.db,
            workers=args.workers,
            use_sandbox=not args.unsafe_no_sandbox,
            limits=limits,
            show_hidden=args.show_hidden,
            on_result=progress,
            students=args.students,
        )
    except (FileNotFoundError, SolutionError, GradebookUnavailable) as error:  # a setup problem: say it plainly
        print(f"course grade: {error}", file=sys.stderr)
        return 2
    print(f"{len(results)} submission(s) graded: {args.out}/grades.csv, feedback in {args.out}/feedback/")
    return 0


def build_parser():
    """The argument parser of the ``course`` command."""
    parser = argparse.ArgumentParser(
        prog="course", description="Release, check and grade the course's exercises."
    )
    parser.add_argument(
        "--root", default=None, help="course folder (default: found from the current directory)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    release = commands.add_parser("release", help="regenerate exercises/ from solutions/")
    release.add_argument("names", nargs="*", metavar="NAME", help="exercise sets (default: all)")
    release.add_argument(
        "--check", action="store_true", help="only report sets whose exercises/ is out of date"
    )
    release.set_defaults(run=_release)

    check = commands.add_parser("check", help="run the visible tests of your notebook")
    check.add_argument("notebook", metavar="NOTEBOOK")
    check.add_argument("--assignment", default=None, help="exercise set, if the file name does not say it")
    check.add_argument("--cell-timeout", type=float, default=600.0, help="seconds per cell (default 600)")
    check.set_defaults(run=_check)

    grade = commands.add_parser("grade", help="autograde every submission of an exercise set")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("submissions", metavar="SUBMISSIONS_DIR")
    grade.add_argument(
        "--out", required=True, metavar="DIR", help="where grades.csv, feedback/ and gradebook.db go"
    )
    grade.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="gradebook URL, e.g. postgresql://user@host/db (default: SQLite in DIR)",
    )
    grade.add_argument(
        "--workers", type=int, default=1, metavar="N", help="submissions graded at once (default 1)"
    )
    grade.add_argument(
        "--unsafe-no-sandbox", action="store_true", help="run without bubblewrap (trusted code only)"
    )
    grade.add_argument(
        "--show-hidden", action="store_true", help="feedback shows hidden tests and expected values"
    )
    grade.add_argument(
        "--student",
        dest="students",
        action="append",
        metavar="ID",
        help="grade only this student (id or LMS id; repeatable); other rows of grades.csv are kept",
    )
    grade.add_argument("--cell-timeout", type=float, default=None, help="seconds per cell")
    grade.add_argument("--notebook-timeout", type=float, default=None, help="seconds per notebook")
    grade.add_argument("--memory-mb", type=int, default=None, help="memory limit per submission")
    grade.set_defaults(run=_grade)
    return parser


def main(argv=None):
    """Entry point of the ``course`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
