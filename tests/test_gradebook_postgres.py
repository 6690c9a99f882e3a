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
        pytest.skip(
            "no PostgreSQL binaries (Debian package postgresql): the PostgreSQL gradebook is not tested"
        )
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
            "SELECT g.max_score FROM grade_cells g JOIN base_cell b ON g.id = b.id "
            "WHERE b.name = 'test_square'"
        ).fetchone() == (3.0,)
