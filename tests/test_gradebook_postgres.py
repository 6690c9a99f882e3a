"""``course grade --db postgresql://...``: grades go into a real PostgreSQL gradebook (a throwaway server on
127.0.0.1, started here from the Debian ``postgresql`` binaries), and re-grading into it changes nothing."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from fixtures.simulated_class import COURSE, RIGHT, SOLUTION, learner_notebook

from course_lib import cli

psycopg = pytest.importorskip("psycopg")


def _postgres_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL binaries (Debian package postgresql): the PostgreSQL gradebook is not tested")
    # PostgreSQL refuses to run as root: run it as an unprivileged user when we are root
    as_user = []
    base = Path(tempfile.mkdtemp(prefix="course-pg-"))
    if os.geteuid() == 0:
        user = "postgres" if shutil.which("runuser") and _user_exists("postgres") else "nobody"
        as_user = ["runuser", "-u", user, "--"]
        shutil.chown(base, user=user)
    data, port = base / "data", _free_port()
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "grader",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c fsync=off"
        subprocess.run(
            [
                *as_user,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        admin = f"postgresql://grader@127.0.0.1:{port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE gradebook")
        yield f"postgresql://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        time.sleep(0.2)
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name):
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _scores(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT s.student_id, SUM(g.auto_score) FROM grade g "
            "JOIN submitted_notebook n ON g.notebook_id = n.id "
            "JOIN submitted_assignment s ON n.assignment_id = s.id GROUP BY s.student_id ORDER BY 1"
        ).fetchall()
    return {student: float(score) for student, score in rows}


@pytest.mark.slow
def test_grading_into_postgresql(postgres_url, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "bob_tiny.ipynb").write_text(learner_notebook({"double": RIGHT["double"]}), encoding="utf-8")
    (folder / "carol.ipynb").write_text("{ not json", encoding="utf-8")
    out = tmp_path / "out"
    args = [
        "--root",
        str(COURSE),
        "grade",
        "tiny",
        str(folder),
        "--out",
        str(out),
        "--db",
        postgres_url,
        "--unsafe-no-sandbox",
        "--workers",
        "2",
    ]
    assert cli.main(args) == 0
    assert "grader@127.0.0.1" in capsys.readouterr().err
    assert _scores(postgres_url) == {"alice": 6.0, "bob": 2.0, "carol": 0.0}
    assert not (out / "gradebook.db").exists()  # nothing went to the default SQLite gradebook
    first_csv = (out / "grades.csv").read_text(encoding="utf-8")
    assert "carol,tiny,,6,unreadable-notebook" in first_csv  # not a grade: the score is empty

    assert cli.main(args) == 0  # a second grader run over the same class: idempotent
    assert _scores(postgres_url) == {"alice": 6.0, "bob": 2.0, "carol": 0.0}
    assert (out / "grades.csv").read_text(encoding="utf-8") == first_csv
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone() == (3,)
        assert conn.execute(
            "SELECT g.max_score FROM grade_cells g JOIN base_cell b ON g.id = b.id WHERE b.name = 'test_square'"
        ).fetchone() == (3.0,)


def _other_database(url, name):
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.mark.parametrize("problem", ["unknown role", "no server"])
def test_a_database_that_cannot_be_opened_is_said_in_one_line_before_any_work(
    postgres_url, tmp_path, capsys, monkeypatch, problem
):
    """Issue 16, item 12: a bad URL or password used to give a 60-line traceback after the solution had run."""
    from course_lib.grading import grade

    def no_work(*args, **kwargs):
        raise AssertionError("the solution ran before the database was checked")

    monkeypatch.setattr(grade, "expected_reports", no_work)
    if problem == "unknown role":
        url = postgres_url.replace("grader@", "nosuchrole@")
    else:
        with socket.socket() as s:  # a port where nothing listens
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"postgresql://grader:secret@127.0.0.1:{port}/gradebook"
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    args = ["--root", str(COURSE), "grade", "tiny", str(folder), "--out", str(tmp_path / "out")]
    start = time.monotonic()
    assert cli.main([*args, "--db", url, "--unsafe-no-sandbox"]) == 2
    assert time.monotonic() - start < 30
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("course grade: cannot open the gradebook postgresql+psycopg://"), error
    assert ("nosuchrole" in error) if problem == "unknown role" else ("secret" not in error and "***" in error)
    assert not (tmp_path / "out" / "grades.csv").exists()


@pytest.mark.slow
def test_graders_started_together_on_a_new_database_take_turns(postgres_url, tmp_path):
    """Issue 16, item 12: two graders on a new database raced to create the schema. While another grader holds
    the schema lock, a grader waits, creating nothing; then it finds the schema and grades."""
    import threading

    from course_lib.grading.grade import grade_assignment
    from course_lib.grading.gradebook import SCHEMA_LOCK_KEY

    with psycopg.connect(_other_database(postgres_url, "postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE fresh")
    url = _other_database(postgres_url, "fresh")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "alice.ipynb").write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    outcome = {}

    def second_grader():
        try:
            outcome["results"] = grade_assignment(COURSE, "tiny", folder, tmp_path / "out", db=url, use_sandbox=False)
        except Exception as error:  # reported by the assertions below
            outcome["error"] = error

    with psycopg.connect(url, autocommit=True) as first:
        first.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))  # the first grader, creating the schema
        thread = threading.Thread(target=second_grader)
        thread.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and thread.is_alive():
            waiting = first.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            if waiting.fetchone()[0]:
                break
            time.sleep(0.2)
        tables = first.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone()[0] == 0  # the second grader waits and creates nothing
        assert thread.is_alive(), outcome
        first.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
    thread.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert [(r.student_id, r.score) for r in outcome["results"]] == [("alice", 6)]
    assert _scores(url) == {"alice": 6.0}
