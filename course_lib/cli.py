"""The ``course`` command (also ``python -m course_lib``): release exercise sets, self-check a notebook, autograde a
class. ``course --help`` shows examples and exit codes.

course release [NAME ...]      regenerate exercises/ from solutions/ (deterministic)
course check NOTEBOOK          run the visible tests of your notebook; exit 0 iff all pass
course grade NAME SUBMISSIONS --out DIR [--db URL] [--workers N] [--student ID] [--unsafe-no-sandbox]
course export DIR --format canvas|moodle|csv   grades for an LMS, and a per-question class summary
"""

import argparse
import sys
from pathlib import Path

import course_lib
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
    for name in args.names:
        if message := _unknown_set("release", root, name):
            print(message, file=sys.stderr)
            return 2
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


def _unknown_set(command, root, name):
    """The one-line complaint about an exercise set that does not exist, or None when it does."""
    known = _names(root)
    if name in known:
        return None
    listed = ", ".join(known) if known else f"none: {root} has no solutions/<name>/<name>.ipynb"
    return f"course {command}: no exercise set named {name!r} (known: {listed})"


def _check(args):
    from course_lib.grading.notebooks import UnreadableNotebook
    from course_lib.grading.release import RELEASE_DIR
    from course_lib.grading.selfcheck import check_notebook, format_report

    if args.assignment:
        root = find_course_root(args.root)
        released = root / RELEASE_DIR / args.assignment / f"{args.assignment}.ipynb"
        # A learner may have only the exercise notebooks (no course folder): then there is nothing to check against.
        if _names(root) and not released.is_file() and (message := _unknown_set("check", root, args.assignment)):
            print(message, file=sys.stderr)
            return 2
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
    from course_lib.grading.late import LatePolicy

    if (args.late_penalty or args.late_cap) and args.deadline is None:
        print("course grade: --late-penalty and --late-cap need --deadline", file=sys.stderr)
        return 2
    policy = LatePolicy(args.deadline, args.late_penalty or 0.0, args.late_cap or 100.0) if args.deadline else None
    root = find_course_root(args.root)
    if message := _unknown_set("grade", root, args.assignment):
        print(message, file=sys.stderr)
        return 2

    def progress(result):
        print(
            f"  {result.student_id:<24} {result.final_score:>6g} / {result.max_score:g}  {result.status}"
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
    if not any(Path(args.submissions).iterdir()):
        print(f"course grade: warning: {args.submissions} is empty: there is nothing to grade", file=sys.stderr)
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
            late_policy=policy,
            nbgrader_course=args.nbgrader_course,
        )
    except (FileNotFoundError, SolutionError, GradebookUnavailable) as error:  # a setup problem: say it plainly
        print(f"course grade: {error}", file=sys.stderr)
        return 2
    print(f"{len(results)} submission(s) graded: {args.out}/grades.csv, feedback in {args.out}/feedback/")
    return 0


def _export(args):
    from course_lib.grading.export import export

    try:
        written, left_out = export(args.out_dir, args.format)
    except FileNotFoundError as error:
        print(f"course export: {error}", file=sys.stderr)
        return 2
    for assignment, student, why in left_out:
        print(f"  left out: {assignment} {student}: {why}", file=sys.stderr)
    for path in written:
        print(f"wrote {path}")
    return 0


EPILOG = """\
examples:
  course check rnn.ipynb                         a learner checks their notebook (visible tests only)
  course release                                 regenerate every exercise set in exercises/ from solutions/
  course release --check                         exit 1 if exercises/ is out of date (for CI)
  course grade rnn submissions/ --out grades/ --workers 2
  course grade rnn fixed/ --out grades/ --student alice_12345    re-grade one student, keep the other rows
  course export grades/ --format canvas          grades/export/rnn-canvas.csv and rnn-summary.{csv,html}

exit status:
  0  success (check: every visible test passed)
  1  check: some visible test failed; release --check: exercises/ is out of date
  2  a usage error: unknown exercise set, bad option value, unreadable notebook, no sandbox, no database
"""


def _positive(kind):
    """An argparse type: a number of ``kind`` (int or float) greater than zero."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0, not {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _time(text):
    """An argparse type: a time (ISO 8601; no zone means UTC)."""
    from course_lib.grading.late import parse_time

    try:
        return parse_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time such as 2026-12-01T23:59+08:00") from None


def _percent(text):
    """An argparse type: a percentage in (0, 100]."""
    value = _positive(float)(text)
    if value > 100:
        raise argparse.ArgumentTypeError(f"must be at most 100, not {text}")
    return value


def _add_root(parser, default):
    parser.add_argument(
        "--root", default=default, metavar="DIR", help="course folder (default: found from the current directory)"
    )


def build_parser():
    """The argument parser of the ``course`` command."""
    parser = argparse.ArgumentParser(
        prog="course",
        description="Release, check and grade the course's exercises.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"course {course_lib.__version__}")
    _add_root(parser, None)
    commands = parser.add_subparsers(dest="command", required=True)

    def subcommand(name, help_text):
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_root(sub, argparse.SUPPRESS)  # also accepted after the subcommand: course check nb --root .
        return sub

    release = subcommand("release", "regenerate exercises/ from solutions/")
    release.add_argument("names", nargs="*", metavar="NAME", help="exercise sets (default: all)")
    release.add_argument("--check", action="store_true", help="only report sets whose exercises/ is out of date")
    release.set_defaults(run=_release)

    check = subcommand("check", "run the visible tests of your notebook")
    check.add_argument("notebook", metavar="NOTEBOOK")
    check.add_argument("--assignment", default=None, help="exercise set, if the file name does not say it")
    check.add_argument(
        "--cell-timeout", type=_positive(float), default=600.0, metavar="SECONDS", help="per cell (default 600)"
    )
    check.set_defaults(run=_check)

    grade = subcommand("grade", "autograde every submission of an exercise set")
    grade.add_argument("assignment", metavar="ASSIGNMENT")
    grade.add_argument("submissions", metavar="SUBMISSIONS_DIR")
    grade.add_argument("--out", required=True, metavar="DIR", help="where grades.csv, feedback/ and gradebook.db go")
    grade.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="gradebook URL, e.g. postgresql://user@host/db (default: SQLite in DIR)",
    )
    grade.add_argument(
        "--workers", type=_positive(int), default=1, metavar="N", help="submissions graded at once (default 1)"
    )
    grade.add_argument("--unsafe-no-sandbox", action="store_true", help="run without bubblewrap (trusted code only)")
    grade.add_argument("--show-hidden", action="store_true", help="feedback shows hidden tests and expected values")
    grade.add_argument(
        "--student",
        dest="students",
        action="append",
        metavar="ID",
        help="grade only this student (id or LMS id; repeatable); other rows of grades.csv are kept",
    )
    from course_lib.grading.sandbox import Limits

    grade.add_argument(
        "--cell-timeout",
        type=_positive(float),
        default=None,
        metavar="SECONDS",
        help=f"per cell (default {Limits.cell_timeout:g})",
    )
    grade.add_argument(
        "--notebook-timeout",
        type=_positive(float),
        default=None,
        metavar="SECONDS",
        help=f"per notebook (default {Limits.notebook_timeout:g})",
    )
    grade.add_argument(
        "--memory-mb",
        type=_positive(int),
        default=None,
        metavar="MB",
        help=f"memory limit per submission (default {Limits.memory_mb})",
    )
    grade.add_argument(
        "--deadline",
        type=_time,
        default=None,
        metavar="TIME",
        help="e.g. 2026-12-01T23:59+08:00 (no zone: UTC); later work is LATE",
    )
    grade.add_argument(
        "--late-penalty",
        type=_positive(float),
        default=None,
        metavar="PCT",
        help="percent of the earned points taken off per day (or part of one) late",
    )
    grade.add_argument(
        "--late-cap",
        type=_percent,
        default=None,
        metavar="PCT",
        help="the most a late penalty can take, in percent (default 100)",
    )
    grade.add_argument(
        "--nbgrader-course",
        default=None,
        metavar="DIR",
        help="also write nbgrader's autograded/ and feedback/ folders in this nbgrader course "
        "directory, for formgrader and nbgrader release_feedback",
    )
    grade.set_defaults(run=_grade)

    from course_lib.grading.export import FORMATS

    export = subcommand("export", "grades in an LMS's import format, and a per-question class summary")
    export.add_argument("out_dir", metavar="DIR", help="a folder written by course grade --out (holds grades.csv)")
    export.add_argument("--format", required=True, choices=FORMATS, help="canvas, moodle or plain csv")
    export.set_defaults(run=_export)
    return parser


def main(argv=None):
    """Entry point of the ``course`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
