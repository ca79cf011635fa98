"""Acceptance: `init` and `check` on projects in the three shapes the presets were made for,
generated here (nothing is copied from anywhere):

- the official full-stack FastAPI template's backend (`backend/app/api/routes/*.py`,
  `app/crud.py`, `app/models.py`, `app/core/db.py`, ...), with its real import structure;
- a per-domain incident-management app (`src/dispatch/<domain>/views.py`, `flows.py`,
  `service.py`, `models.py`, nested domains, a database package);
- a desktop GUI application with no database (`src/editor/{ui,core,io,plugins}`).

`init` must propose the right preset and say why; `check` on what it wrote must give exactly
the findings planted in each project; file-named layers must claim exactly the files they name;
a layer that matches nothing must be reported.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run, write_project

Cli = Callable[..., Run]

# --- the full-stack FastAPI template's backend ------------------------------------------------

TEMPLATE = {
    "backend/app/__init__.py": "",
    "backend/app/main.py": """
        from fastapi import FastAPI

        from app.api.main import api_router
        from app.core.config import settings

        app = FastAPI(title=settings.PROJECT_NAME)
        app.include_router(api_router, prefix=settings.API_V1_STR)
    """,
    "backend/app/api/__init__.py": "",
    "backend/app/api/main.py": """
        from fastapi import APIRouter

        from app.api.routes import items, login, users, utils

        api_router = APIRouter()
        api_router.include_router(login.router)
        api_router.include_router(users.router)
        api_router.include_router(utils.router)
        api_router.include_router(items.router)
    """,
    "backend/app/api/deps.py": """
        from collections.abc import Generator
        from typing import Annotated

        from fastapi import Depends
        from sqlmodel import Session

        from app.core import security
        from app.core.config import settings
        from app.core.db import engine
        from app.models import TokenPayload, User


        def get_db() -> Generator[Session, None, None]:
            with Session(engine) as session:
                yield session


        SessionDep = Annotated[Session, Depends(get_db)]
    """,
    "backend/app/api/routes/__init__.py": "",
    "backend/app/api/routes/items.py": """
        from fastapi import APIRouter
        from sqlmodel import func, select

        from app.api.deps import CurrentUser, SessionDep
        from app.models import Item, ItemCreate, ItemPublic

        router = APIRouter(prefix="/items", tags=["items"])


        @router.post("/", response_model=ItemPublic)
        def create_item(*, session: SessionDep, current_user: CurrentUser, item_in: ItemCreate):
            item = Item.model_validate(item_in, update={"owner_id": current_user.id})
            session.add(item)
            session.commit()
            session.refresh(item)
            return item
    """,
    "backend/app/api/routes/users.py": """
        from fastapi import APIRouter

        from app import crud
        from app.api.deps import CurrentUser, SessionDep
        from app.core.security import get_password_hash
        from app.models import UserCreate, UserPublic
        from app.utils import generate_new_account_email

        router = APIRouter(prefix="/users", tags=["users"])


        @router.post("/", response_model=UserPublic)
        def create_user(*, session: SessionDep, user_in: UserCreate):
            return crud.create_user(session=session, user_create=user_in)
    """,
    "backend/app/api/routes/login.py": """
        from fastapi import APIRouter

        from app import crud
        from app.api.deps import SessionDep
        from app.core import security
        from app.core.config import settings

        router = APIRouter(tags=["login"])
    """,
    "backend/app/api/routes/utils.py": """
        from fastapi import APIRouter

        from app.models import Message
        from app.utils import send_email

        router = APIRouter(prefix="/utils", tags=["utils"])
    """,
    "backend/app/core/__init__.py": "",
    "backend/app/core/config.py": """
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            PROJECT_NAME: str = "app"
            API_V1_STR: str = "/api/v1"


        settings = Settings()
    """,
    "backend/app/core/security.py": """
        import jwt

        from app.core.config import settings


        def get_password_hash(password: str) -> str:
            return password
    """,
    "backend/app/core/db.py": """
        from sqlmodel import Session, create_engine, select

        from app import crud
        from app.core.config import settings
        from app.models import User, UserCreate

        engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI))


        def init_db(session: Session) -> None:
            user = session.exec(select(User)).first()
            if not user:
                crud.create_user(session=session, user_create=UserCreate(email="admin"))
    """,
    "backend/app/crud.py": """
        from sqlmodel import Session, select

        from app.core.db import engine
        from app.core.security import get_password_hash
        from app.models import User, UserCreate


        def create_user(*, session: Session, user_create: UserCreate) -> User:
            db_obj = User.model_validate(user_create)
            session.add(db_obj)
            session.commit()
            session.refresh(db_obj)
            return db_obj


        def count_users() -> int:
            with Session(engine) as own:
                return len(own.exec(select(User)).all())
    """,
    "backend/app/models.py": """
        import uuid

        from sqlmodel import Field, SQLModel

        from app.api.deps import CurrentUser


        class User(SQLModel, table=True):
            id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
            email: str
    """,
    "backend/app/utils.py": """
        from app.core import security
        from app.core.config import settings
    """,
    "backend/app/backend_pre_start.py": """
        from sqlmodel import Session, select

        from app.core.db import engine

        with Session(engine) as session:
            session.exec(select(1))
    """,
    "backend/app/initial_data.py": """
        from sqlmodel import Session

        from app.core.db import engine, init_db
    """,
    "backend/app/alembic/env.py": "from app.models import SQLModel\n",
    "backend/app/alembic/versions/e2412789c190_initialize_models.py": "import sqlalchemy\n",
    "backend/app/tests/__init__.py": "",
    "backend/app/tests/conftest.py": "from sqlmodel import Session\n",
    "backend/app/tests/api/routes/test_items.py": "from app.models import Item\n",
    "backend/scripts/prestart.sh": "python app/backend_pre_start.py\n",
    "frontend/src/main.tsx": "export {}\n",
}
"""The template's backend with three planted findings: a route commits (LG201, items.py:14, as
the template's own routes do), the models import the API (LG101, models.py:5), the data access
opens its own session (LG202, crud.py:17)."""

TEMPLATE_PLANTED = [
    ("LG101", "backend/app/models.py", 5),
    ("LG201", "backend/app/api/routes/items.py", 14),
    ("LG202", "backend/app/crud.py", 17),
]


ACCEPT = (
    "Fix them, change layerguard.yaml where it does not describe the architecture you want, or "
    "accept them for now with `layerguard baseline create` so that only new ones fail.\n"
)
"""How `init` ends when the contract it wrote reports findings on the current code."""


def generate(root: Path, files: dict[str, str]) -> Path:
    write_project(root, {p: textwrap.dedent(t).lstrip("\n") for p, t in files.items()}, None)
    return root


def test_init_proposes_fastapi_for_the_template_and_says_why(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, TEMPLATE)
    run = run_cli(["init"])
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == (
        "proposing preset 'fastapi' (a layered FastAPI application: api → services → "
        "crud/repositories → models; core), as:\n"
        "  layer 'api': backend/app/api/** (8 files)\n"
        "  layer 'crud': backend/app/crud.py (1 file)\n"
        "  layer 'models': backend/app/models.py (1 file)\n"
        "  layer 'core': backend/app/core/** (4 files)\n"
        "wrote layerguard.yaml (preset 'fastapi')\n"
        "its layers hold 14 of 19 Python files (api 8, crud 1, models 1, core 4); "
        "`layerguard layers` lists them, `layerguard check` checks them\n"
        "`layerguard check` reports 3 findings with it on the current code: "
        "LG101 forbidden-layer-import ×1, LG201 transaction-outside-owner ×1 (only crud, core "
        "may commit), LG202 session-construction-outside-creator ×1 (only app.api.deps, core may "
        "build sessions)\n" + ACCEPT
    )
    contract = (tmp_path / "layerguard.yaml").read_text(encoding="utf-8")
    assert "source_roots: [backend]\n" in contract
    assert "  owners: [crud, core]\n" in contract
    assert "  session_creators: [app.api.deps, core]\n" in contract


@pytest.mark.parametrize("where", ["layerguard.yaml", "pyproject.toml"])
def test_check_on_the_template_gives_exactly_the_planted_findings(
    tmp_path: Path, run_cli: Cli, where: str
) -> None:
    generate(tmp_path, TEMPLATE)
    assert run_cli(["init", *(["--pyproject"] if where == "pyproject.toml" else [])]).exit_code == 0
    assert (tmp_path / where).is_file()
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert run.exit_code == 1
    assert sorted(run.findings()) == TEMPLATE_PLANTED


def test_an_empty_layer_of_the_template_is_reported(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, TEMPLATE)
    assert run_cli(["init"]).exit_code == 0
    (tmp_path / "backend/app/crud.py").unlink()  # the data access moved elsewhere
    (tmp_path / "backend/app/api/routes/users.py").unlink()
    (tmp_path / "backend/app/api/routes/login.py").unlink()
    (tmp_path / "backend/app/core/db.py").write_text("engine = None\n")
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert run.exit_code == 1
    assert sorted(run.findings()) == [
        ("LG004", "layerguard.yaml", 24),
        ("LG101", "backend/app/models.py", 5),
        ("LG201", "backend/app/api/routes/items.py", 14),
    ]
    [empty] = [f["message"] for f in run.report["findings"] if f["code"] == "LG004"]
    assert empty == (
        "layer 'crud' matches no file; fix its `paths`/`modules` (`layerguard layers` lists "
        "what each layer holds), or remove the layer"
    )


# The template's routes as they are: they commit after `session.add(...)` in ten places (the
# real template does in about ten), and nothing else is planted.
TEMPLATE_ROUTES = {
    **TEMPLATE,
    "backend/app/api/routes/items.py": """
        from fastapi import APIRouter

        from app.api.deps import CurrentUser, SessionDep
        from app.models import Item, ItemCreate, ItemUpdate

        router = APIRouter(prefix="/items", tags=["items"])


        @router.post("/")
        def create_item(*, session: SessionDep, current_user: CurrentUser, item_in: ItemCreate):
            item = Item.model_validate(item_in, update={"owner_id": current_user.id})
            session.add(item)
            session.commit()
            return item


        @router.put("/{id}")
        def update_item(*, session: SessionDep, id: int, item_in: ItemUpdate):
            item = session.get(Item, id)
            item.sqlmodel_update(item_in.model_dump(exclude_unset=True))
            session.add(item)
            session.commit()
            return item


        @router.delete("/{id}")
        def delete_item(session: SessionDep, id: int):
            session.delete(session.get(Item, id))
            session.commit()
    """,
    "backend/app/api/routes/users.py": """
        from fastapi import APIRouter

        from app.api.deps import CurrentUser, SessionDep
        from app.core.security import get_password_hash
        from app.models import User, UserUpdate, UserUpdateMe

        router = APIRouter(prefix="/users", tags=["users"])


        @router.patch("/me")
        def update_user_me(*, session: SessionDep, user_in: UserUpdateMe, me: CurrentUser):
            me.sqlmodel_update(user_in.model_dump(exclude_unset=True))
            session.add(me)
            session.commit()
            return me


        @router.patch("/me/password")
        def update_password_me(*, session: SessionDep, new_password: str, me: CurrentUser):
            me.hashed_password = get_password_hash(new_password)
            session.add(me)
            session.commit()


        @router.delete("/me")
        def delete_user_me(session: SessionDep, me: CurrentUser):
            session.delete(me)
            session.commit()


        @router.patch("/{user_id}")
        def update_user(*, session: SessionDep, user_id: int, user_in: UserUpdate):
            user = session.get(User, user_id)
            user.sqlmodel_update(user_in.model_dump(exclude_unset=True))
            session.add(user)
            session.commit()
            return user


        @router.delete("/{user_id}")
        def delete_user(session: SessionDep, user_id: int):
            session.delete(session.get(User, user_id))
            session.commit()
    """,
    "backend/app/api/routes/login.py": """
        from fastapi import APIRouter

        from app.api.deps import SessionDep
        from app.core.security import get_password_hash
        from app.models import NewPassword, User

        router = APIRouter(tags=["login"])


        @router.post("/reset-password/")
        def reset_password(session: SessionDep, body: NewPassword):
            user = session.get(User, body.user_id)
            user.hashed_password = get_password_hash(body.new_password)
            session.add(user)
            session.commit()
    """,
    "backend/app/api/routes/private.py": """
        from fastapi import APIRouter

        from app.api.deps import SessionDep
        from app.models import User, UserPublic

        router = APIRouter(tags=["private"], prefix="/private")


        @router.post("/users/", response_model=UserPublic)
        def create_user(session: SessionDep, email: str):
            user = User(email=email)
            session.add(user)
            session.commit()
            return user
    """,
    "backend/app/models.py": """
        import uuid

        from sqlmodel import Field, SQLModel


        class User(SQLModel, table=True):
            id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
            email: str
    """,
    "backend/app/crud.py": """
        from sqlmodel import Session

        from app.core.security import get_password_hash
        from app.models import User, UserCreate


        def create_user(*, session: Session, user_create: UserCreate) -> User:
            db_obj = User.model_validate(user_create)
            session.add(db_obj)
            session.commit()
            session.refresh(db_obj)
            return db_obj
    """,
}
ROUTE_COMMITS = sorted(
    ("LG201", path, number)
    for path, text in TEMPLATE_ROUTES.items()
    if "/routes/" in path
    for number, line in enumerate(textwrap.dedent(text).lstrip("\n").splitlines(), 1)
    if line.strip() == "session.commit()"
)
"""Where the routes commit: LG201 for each, as the preset lets only crud and core commit."""


def test_init_ends_with_what_check_will_report_on_the_template(
    tmp_path: Path, run_cli: Cli
) -> None:
    """A new user of the template gets, with the contract, the count of what it reports (each
    route's commit: only crud and core own the transaction) and what to do about it; `init`
    writes nothing else but the cache, and `check` then reports exactly that, from it."""
    generate(tmp_path, TEMPLATE_ROUTES)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    run = run_cli(["init"])
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout.splitlines()[-3:] == [
        "its layers hold 15 of 20 Python files (api 9, crud 1, models 1, core 4); "
        "`layerguard layers` lists them, `layerguard check` checks them",
        "`layerguard check` reports 10 findings with it on the current code: "
        "LG201 transaction-outside-owner ×10 (only crud, core may commit)",
        ACCEPT.rstrip("\n"),
    ]
    # docs/configuration.md shows this ending as it is.
    docs = (Path(__file__).parents[2] / "docs/configuration.md").read_text(encoding="utf-8")
    assert "```text\n" + "\n".join(run.stdout.splitlines()[-4:]) + "\n```\n" in docs
    after = sorted(
        p.relative_to(tmp_path)
        for p in tmp_path.rglob("*")
        if ".layerguard_cache" not in p.relative_to(tmp_path).parts
    )
    assert sorted({*after} - {*before}) == [Path("layerguard.yaml")]
    assert len(after) == len(before) + 1
    check = run_cli(["check", "--output-format", "json"])
    assert check.report["summary"]["parsed"] == 0  # init's run left the cache for it
    assert len(ROUTE_COMMITS) == 10
    assert (check.exit_code, sorted(check.findings())) == (1, ROUTE_COMMITS)
    # Accepted as the summary suggests: `check` passes, and a second init (over the first)
    # says what the baseline hides and how to record what it does not.
    assert run_cli(["baseline", "create", "--no-cache"]).exit_code == 0
    assert run_cli(["check", "--no-cache"]).exit_code == 0
    items = tmp_path / "backend/app/api/routes/items.py"
    items.write_text(items.read_text("utf-8") + "\n\ndef archive(session):\n    session.commit()\n")
    rerun = run_cli(["init", "--force"])
    assert rerun.exit_code == 0
    assert rerun.stdout.splitlines()[-2:] == [
        "`layerguard check` reports 1 finding with it on the current code (10 more hidden by "
        ".layerguard-baseline.json): LG201 transaction-outside-owner ×1 (only crud, core may "
        "commit)",
        "Fix it, change layerguard.yaml where it does not describe the architecture you want, or "
        "accept it for now with `layerguard baseline update --allow-new` so that only new ones "
        "fail.",
    ]


def test_init_says_when_the_current_code_cannot_be_checked(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, TEMPLATE_ROUTES)
    (tmp_path / ".layerguard-baseline.json").write_text("{not json\n")
    run = run_cli(["init"])
    assert run.exit_code == 0  # the contract is written all the same
    assert run.stdout.splitlines()[-1].startswith("its layers hold 15 of 20 Python files")
    assert run.stderr == (
        "layerguard: warning: the current code could not be checked with the contract:\n"
        f"{tmp_path / '.layerguard-baseline.json'}:1:2: invalid JSON: Expecting property name "
        "enclosed in double quotes\n"
    )
    assert (tmp_path / "layerguard.yaml").is_file()


# --- the per-domain incident-management app -------------------------------------------------


def domain(name: str, *, flows: bool = True) -> dict[str, str]:
    package = f"src/dispatch/{name.replace('.', '/')}"
    module = f"dispatch.{name}"
    files = {
        f"{package}/__init__.py": "",
        f"{package}/models.py": f"""
            from sqlalchemy import Column, Integer, String

            from dispatch.database.core import Base
            from dispatch.models import DispatchBase


            class {name.title().replace(".", "")}(Base):
                id = Column(Integer, primary_key=True)
                name = Column(String)


            class {name.title().replace(".", "")}Read(DispatchBase):
                id: int
        """,
        f"{package}/service.py": f"""
            from sqlalchemy.orm import Session

            from {module}.models import {name.title().replace(".", "")}


            def create(*, db_session: Session, name: str):
                row = {name.title().replace(".", "")}(name=name)
                db_session.add(row)
                db_session.commit()
                return row
        """,
        f"{package}/views.py": f"""
            from fastapi import APIRouter, Depends

            from dispatch.database.core import get_db
            from {module}.models import {name.title().replace(".", "")}Read
            from {module}.service import create

            router = APIRouter()


            @router.post("/", response_model={name.title().replace(".", "")}Read)
            def create_one(name: str, db_session=Depends(get_db)):
                return create(db_session=db_session, name=name)
        """,
    }
    if flows:
        files[f"{package}/flows.py"] = f"""
            from dispatch.participant import service as participant_service
            from {module} import service


            def created_flow(db_session, name: str):
                row = service.create(db_session=db_session, name=name)
                participant_service.create(db_session=db_session, name=name)
                db_session.commit()
                return row
        """
    return files


DOMAINS = {
    "src/dispatch/__init__.py": "",
    "src/dispatch/main.py": """
        from fastapi import FastAPI

        from dispatch.api import api_router

        app = FastAPI()
        app.include_router(api_router)
    """,
    "src/dispatch/api.py": """
        from fastapi import APIRouter

        from dispatch.case.views import router as case_router
        from dispatch.incident.views import router as incident_router

        api_router = APIRouter()
    """,
    "src/dispatch/config.py": "DATABASE_URL = 'sqlite://'\n",
    "src/dispatch/models.py": """
        from pydantic import BaseModel


        class DispatchBase(BaseModel): ...
    """,
    "src/dispatch/database/__init__.py": "",
    "src/dispatch/database/core.py": """
        from sqlalchemy import create_engine
        from sqlalchemy.orm import declarative_base, sessionmaker

        engine = create_engine("sqlite://")
        SessionLocal = sessionmaker(bind=engine)
        Base = declarative_base()


        def get_db(request):
            return request.state.db
    """,
    "src/dispatch/database/service.py": """
        def paginate(query, page: int, size: int):
            return query.offset(page * size).limit(size)
    """,
    **domain("incident"),
    **domain("incident.severity", flows=False),
    **domain("case"),
    **domain("case.type", flows=False),
    **domain("participant"),
    **domain("project"),
    "tests/conftest.py": "import pytest\n",
}
"""Four domains (two with a nested one) and three planted findings: a view commits (LG201),
the case models import the case flows (LG101), a participant flow builds its own session
(LG202)."""
DOMAINS["src/dispatch/incident/views.py"] += textwrap.indent(
    "\n\n@router.delete('/{id}')\ndef delete_one(id: int, db_session=Depends(get_db)):\n"
    "    db_session.commit()\n",
    "            ",
)
DOMAINS["src/dispatch/case/models.py"] = DOMAINS["src/dispatch/case/models.py"].replace(
    "from dispatch.models import DispatchBase\n",
    "from dispatch.models import DispatchBase\n"
    "            from dispatch.case.flows import created_flow\n",
)
DOMAINS["src/dispatch/participant/flows.py"] += textwrap.indent(
    "\n\ndef background_flow():\n    from dispatch.database.core import SessionLocal\n\n"
    "    db_session = SessionLocal()\n    return db_session\n",
    "            ",
)
DOMAINS_PLANTED = [
    ("LG101", "src/dispatch/case/models.py", 5),
    ("LG201", "src/dispatch/incident/views.py", 17),
    ("LG202", "src/dispatch/participant/flows.py", 15),
]


def test_init_proposes_domains_for_the_per_domain_app(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, DOMAINS)
    run = run_cli(["init"])
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == (
        "proposing preset 'domains' (one package per domain: views → flows/service → models in "
        "each (file-named)), as:\n"
        "  6 domain packages under src/dispatch/ (case, case/type, incident, incident/severity, "
        "participant, project) hold flows.py, models.py, service.py, views.py\n"
        "  (also fits: fastapi; see --preset)\n"
        "wrote layerguard.yaml (preset 'domains')\n"
        "its layers hold 23 of 36 Python files (views 6, flows 4, service 7, models 6); "
        "`layerguard layers` lists them, `layerguard check` checks them\n"
        "`layerguard check` reports 3 findings with it on the current code: "
        "LG101 forbidden-layer-import ×1, LG201 transaction-outside-owner ×1 (only flows, "
        "service may commit), LG202 session-construction-outside-creator ×1 (no module may build "
        "sessions)\n" + ACCEPT
    )
    contract = (tmp_path / "layerguard.yaml").read_text(encoding="utf-8")
    assert "source_roots: [src]\n" in contract
    assert '    paths: ["src/dispatch/{domain}/**/views.py"]\n' in contract
    assert '    paths: ["src/dispatch/{domain}/**/flows.py"]\n' in contract
    assert '    paths: ["src/dispatch/{domain}/**/service.py"]\n' in contract
    assert '    paths: ["src/dispatch/{domain}/**/models.py"]\n' in contract


def test_file_named_layers_claim_the_files_they_name(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, DOMAINS)
    assert run_cli(["init"]).exit_code == 0
    layers = {
        layer["id"]: layer["files"]
        for layer in run_cli(["layers", "--output-format", "json"]).report["layers"]
    }
    assert layers["flows"] == [
        {"path": f"src/dispatch/{d}/flows.py", "domain": d}
        for d in ("case", "incident", "participant", "project")
    ]
    assert {(f["path"], f["domain"]) for f in layers["views"]} >= {
        ("src/dispatch/case/type/views.py", "case"),
        ("src/dispatch/incident/severity/views.py", "incident"),
    }
    assert ("src/dispatch/database/service.py", "database") in {
        (f["path"], f["domain"]) for f in layers["service"]
    }
    assert all(f["path"].endswith("/models.py") for f in layers["models"])
    assert len(layers["models"]) == 6


def test_check_on_the_per_domain_app_gives_exactly_the_planted_findings(
    tmp_path: Path, run_cli: Cli
) -> None:
    generate(tmp_path, DOMAINS)
    assert run_cli(["init"]).exit_code == 0
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert run.exit_code == 1
    assert sorted(run.findings()) == DOMAINS_PLANTED


# --- the desktop GUI application ------------------------------------------------------------

GUI = {
    "src/editor/__init__.py": "",
    "src/editor/__main__.py": """
        from PySide6.QtWidgets import QApplication

        from editor.ui.main_window import MainWindow

        app = QApplication([])
        MainWindow().show()
    """,
    "src/editor/ui/__init__.py": "",
    "src/editor/ui/main_window.py": """
        from PySide6.QtWidgets import QMainWindow

        from editor.core.document import Document
        from editor.ui.dialogs.open_dialog import OpenDialog
        from editor.ui.widgets.canvas import Canvas


        class MainWindow(QMainWindow):
            def __init__(self):
                super().__init__()
                self.setCentralWidget(Canvas(Document()))
    """,
    "src/editor/ui/dialogs/__init__.py": "",
    "src/editor/ui/dialogs/open_dialog.py": """
        from PySide6.QtWidgets import QFileDialog

        from editor.io.reader import read


        class OpenDialog(QFileDialog): ...
    """,
    "src/editor/ui/dialogs/settings_dialog.py": """
        from PySide6.QtWidgets import QDialog


        class SettingsDialog(QDialog): ...
    """,
    "src/editor/ui/widgets/__init__.py": "",
    "src/editor/ui/widgets/canvas.py": """
        from PySide6.QtGui import QPainter
        from PySide6.QtWidgets import QWidget

        from editor.ui.dialogs.settings_dialog import SettingsDialog


        class Canvas(QWidget):
            def __init__(self, document):
                super().__init__()
                self.document = document

            def paintEvent(self, event):
                painter = QPainter(self)
                painter.drawLine(0, 0, 10, 10)
                painter.end()
    """,
    "src/editor/ui/widgets/toolbar.py": "from PySide6.QtWidgets import QToolBar\n",
    "src/editor/core/__init__.py": "",
    "src/editor/core/document.py": """
        from editor.core.undo import UndoStack


        class Document:
            def __init__(self):
                self.undo = UndoStack()
    """,
    "src/editor/core/undo.py": "class UndoStack: ...\n",
    "src/editor/core/commands.py": "from editor.ui.widgets.canvas import Canvas\n",
    "src/editor/io/__init__.py": "",
    "src/editor/io/reader.py": "from editor.core.document import Document\n",
    "src/editor/io/writer.py": "from editor.core.document import Document\n",
    "src/editor/plugins/__init__.py": "",
    "src/editor/plugins/registry.py": "PLUGINS: dict[str, object] = {}\n",
    "tests/test_document.py": "from editor.core.document import Document\n",
    "docs/conf.py": "project = 'editor'\n",
}


def test_init_proposes_packages_for_the_gui_app(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, GUI)
    run = run_cli(["init"])
    assert (run.exit_code, run.stderr) == (0, "")
    assert run.stdout == (
        "proposing preset 'packages' (one layer per sub-package and no rule yet: a start for "
        "any other tree), as:\n"
        "  src/editor/ has 4 sub-packages\n"
        "wrote layerguard.yaml (preset 'packages')\n"
        "its layers hold 17 of 19 Python files (core 4, io 3, plugins 2, ui 8); "
        "`layerguard layers` lists them, `layerguard check` checks them\n"
        "`layerguard check` reports no findings with it on the current code\n"
    )
    assert "\n# No transactions section: no module imports SQLAlchemy or SQLModel." in (
        tmp_path / "layerguard.yaml"
    ).read_text(encoding="utf-8")


def test_check_on_the_gui_app_finds_what_its_rules_plant(tmp_path: Path, run_cli: Cli) -> None:
    """The preset checks nothing until a rule is added: add the one its comment describes
    (core must not import ui) and the planted import is the one finding."""
    generate(tmp_path, GUI)
    assert run_cli(["init"]).exit_code == 0
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert (run.exit_code, run.findings()) == (0, [])
    contract = tmp_path / "layerguard.yaml"
    text = contract.read_text(encoding="utf-8")
    core = '    paths: ["src/editor/core/**"]\n'
    contract.write_text(text.replace(core, core + "    forbid:\n      layers: [ui]\n"))
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert (run.exit_code, run.findings()) == (1, [("LG101", "src/editor/core/commands.py", 1)])


GUI_BY_FILE_NAME = """\
version: 1
source_roots: [src]
layers:
  - id: dialogs
    name: Dialogs
    paths: ["src/editor/ui/dialogs/*_dialog.py"]
  - id: widgets
    name: Widgets
    paths: ["src/editor/ui/widgets/*.py"]
    exclude: ["src/editor/ui/widgets/models.py"]
    forbid:
      layers: [dialogs]
  - id: item_models
    name: Qt item models
    paths: ["src/editor/**/models.py"]
    forbid:
      layers: [dialogs, widgets]
"""


def test_file_named_layers_and_an_empty_one_in_the_gui_app(tmp_path: Path, run_cli: Cli) -> None:
    generate(tmp_path, GUI)
    (tmp_path / "layerguard.yaml").write_text(GUI_BY_FILE_NAME, encoding="utf-8")
    run = run_cli(["layers"])
    assert run.stdout == (
        "dialogs (Dialogs): 2 files\n"
        "  src/editor/ui/dialogs/open_dialog.py\n"
        "  src/editor/ui/dialogs/settings_dialog.py\n"
        "widgets (Widgets): 3 files\n"
        "  src/editor/ui/widgets/__init__.py\n"
        "  src/editor/ui/widgets/canvas.py\n"
        "  src/editor/ui/widgets/toolbar.py\n"
        "item_models (Qt item models): no files\n"
        "in no layer: 13 files\n"
        + "".join(
            f"  src/editor/{path}\n"
            for path in (
                "__init__.py",
                "__main__.py",
                "core/__init__.py",
                "core/commands.py",
                "core/document.py",
                "core/undo.py",
                "io/__init__.py",
                "io/reader.py",
                "io/writer.py",
                "plugins/__init__.py",
                "plugins/registry.py",
                "ui/__init__.py",
                "ui/dialogs/__init__.py",
            )
        )
        + "  src/editor/ui/main_window.py\n"
    ).replace("in no layer: 13 files", "in no layer: 14 files")
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert run.exit_code == 1
    assert sorted(run.findings()) == [
        ("LG004", "layerguard.yaml", 13),
        ("LG101", "src/editor/ui/widgets/canvas.py", 4),
    ]


# --- the hoc layout, for completeness -------------------------------------------------------

HOC = {
    "backend/app/__init__.py": "",
    "backend/app/hoc/api/cus/policies/policies.py": "from fastapi import APIRouter\n",
    "backend/app/hoc/api/facades/cus.py": "from app.hoc.api.cus.policies import policies\n",
    "backend/app/hoc/cus/hoc_spine/wiring.py": "",
    "backend/app/hoc/cus/hoc_spine/orchestrator/handlers/policies_handler.py": (
        "from app.hoc.cus.policies.L5_engines.engine import evaluate\n"
    ),
    "backend/app/hoc/cus/hoc_spine/services/clock.py": "",
    "backend/app/hoc/cus/policies/L5_engines/engine.py": (
        "from app.hoc.api.cus.policies.policies import APIRouter\n"
    ),
    "backend/app/hoc/cus/policies/L6_drivers/driver.py": "from app.models.policy import Policy\n",
    "backend/app/models/policy.py": "class Policy: ...\n",
}


def test_hoc_init_cards_and_check_give_the_planted_finding(tmp_path: Path, run_cli: Cli) -> None:
    """The hoc workflow: init, generate the cards its `cards.paths` expects, check; the engine
    importing a route (LG101) is the one finding."""
    generate(tmp_path, HOC)
    run = run_cli(["init"])
    assert run.stdout.startswith("proposing preset 'hoc' ")
    written = (tmp_path / "layerguard.yaml").read_text("utf-8")
    assert written.startswith("# The layer contract of this project, written by `layerguard init")
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert sorted(run.findings()) == [
        ("LG004", "layerguard.yaml", 112),  # cards.paths: no card yet
        ("LG101", "backend/app/hoc/cus/policies/L5_engines/engine.py", 1),
    ]
    assert run_cli(["cards", "generate"]).exit_code == 0
    run = run_cli(["check", "--no-cache", "--output-format", "json"])
    assert (run.exit_code, run.findings()) == (
        1,
        [("LG101", "backend/app/hoc/cus/policies/L5_engines/engine.py", 1)],
    )
