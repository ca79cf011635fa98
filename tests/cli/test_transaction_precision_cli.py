"""LG201/LG202 count SQLAlchemy's sessions only: another package's `Session` (requests, boto3)
is not one, nor is a call that SQLAlchemy's signatures would refuse (`git.commit(repo=...)`),
nor a module's `commit()` function. The project's own factories still count."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from tests.helpers import Run, write_project

SERVICES = """\
version: 1
source_roots: [src]
layers:
  - id: services
    name: Services
    paths: ["src/app/services/**"]
transactions: {owners: [services], session_creators: []}
"""

HTTP = "src/app/services/http.py"
DB = "src/app/services/db.py"
WORK = "src/app/services/work.py"
PACKAGES = {"src/app/__init__.py": "", "src/app/services/__init__.py": ""}
EXAMPLE = Path(__file__).parents[2] / "examples" / "hoc_app"


def test_sessions_of_other_packages_are_not_sessions(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    http = """\
import boto3
import requests
from requests import Session


def call():
    requests.Session()
    Session()
    boto3.session.Session()
    boto3.Session(region_name="x")
"""
    write_project(tmp_path, {**PACKAGES, HTTP: http}, SERVICES)
    run = run_cli(["check", "--output-format", "json"])
    assert (run.exit_code, run.findings()) == (0, [])


def test_sqlalchemys_and_the_projects_own_factories_still_count(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    db = """\
import sqlalchemy.orm
from sqlalchemy import orm
from sqlalchemy.orm import Session as S, sessionmaker
from sqlmodel import Session as ModelSession

from app.core.db import SessionLocal
from ..core import db as core_db

AsyncSessionLocal = sessionmaker()


def build(engine):
    S(engine)
    orm.Session(engine)
    sqlalchemy.orm.Session(engine)
    sessionmaker(bind=engine)()
    ModelSession(engine)
    SessionLocal()
    core_db.SessionLocal()
    AsyncSessionLocal()
"""
    files = {**PACKAGES, "src/app/core/__init__.py": "", "src/app/core/db.py": "", DB: db}
    write_project(tmp_path, files, SERVICES)
    run = run_cli(["check", "--output-format", "json"])
    assert run.exit_code == 1
    assert run.findings() == [("LG202", DB, line) for line in range(13, 21)]
    assert run.report["findings"][0]["message"].startswith("`S(...)` builds a session in services")


def test_calls_sqlalchemy_would_refuse_and_module_functions_are_not_transactions(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    work = """\
import transaction
from app.ext import db
from app.vcs import git
from .. import vcs


def run(shadow, lock, session):
    git.commit(repo=shadow)
    git.commit()
    vcs.git.rollback()
    transaction.commit()
    lock.commit(message="x")
    db.session.commit()
    session.begin(nested=True)
"""
    files = {
        **PACKAGES,
        "src/app/ext.py": "db = None\n",  # an object: `db.session` may be a scoped session
        "src/app/vcs/__init__.py": "",
        "src/app/vcs/git.py": "def commit(repo=None): ...\ndef rollback(): ...\n",
        WORK: work,
    }
    write_project(tmp_path, files, SERVICES.replace("owners: [services]", "owners: []"))
    run = run_cli(["check", "--output-format", "json"])
    assert run.findings() == [("LG201", WORK, 13), ("LG201", WORK, 14)]


def test_a_session_parameter_named_like_an_imported_module_still_counts(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    work = """\
from fastapi import Depends
from sqlalchemy.orm import Session

from app import db


def create(item, db: Session = Depends(db.get_db)):
    db.add(item)
    db.commit()
"""
    files = {**PACKAGES, "src/app/db.py": "def get_db(): ...\n", WORK: work}
    write_project(tmp_path, files, SERVICES.replace("owners: [services]", "owners: []"))
    assert run_cli(["check", "--output-format", "json"]).findings() == [("LG201", WORK, 9)]


def test_a_factory_the_file_binds_to_a_makers_result_builds_sessions(
    tmp_path: Path, run_cli: Callable[..., Run]
) -> None:
    """`Maker = sessionmaker(...)` makes `Maker()` a session's construction, at module level
    and in the function that binds it (not in another one), and scoped_session's registries
    are makers too; another package's maker is not SQLAlchemy's."""
    copy = tmp_path / "hoc_app"
    shutil.copytree(
        EXAMPLE, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", ".*_cache", "*.db")
    )
    engine = "backend/app/hoc/cus/policies/L5_engines/tx_c.py"
    (copy / engine).write_text(
        """\
from cache_client import sessionmaker as cache_maker
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import scoped_session, sessionmaker

make_session = sessionmaker(bind=engine)
reg = scoped_session(sessionmaker(engine))
cache = cache_maker(engine)


def run(aengine):
    Maker = sessionmaker(engine)
    s = Maker()
    m = async_sessionmaker(aengine)
    return s, m(), make_session(), scoped_session(sessionmaker(engine))(), reg(), cache()


def other():
    return Maker(), m()
""",
        encoding="utf-8",
    )
    run = run_cli(["check", "--no-cache", "--select", "LG202", "--output-format", "json"], cwd=copy)
    assert run.exit_code == 1
    found = [
        (f["line"], f["col"], f["message"].split(" builds")[0]) for f in run.report["findings"]
    ]
    assert found == [
        (12, 9, "`Maker(...)`"),
        (14, 15, "`m(...)`"),
        (14, 20, "`make_session(...)`"),
        (14, 36, "`scoped_session()(...)`"),
        (14, 76, "`reg(...)`"),
    ]
    assert {f["path"] for f in run.report["findings"]} == {engine}
