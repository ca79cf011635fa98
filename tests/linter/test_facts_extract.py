"""FileFacts extraction: every import form, scope, call and position the rules rely on."""

from __future__ import annotations

import json
import textwrap

import pytest

from layerguard.linter.facts.extract import extract_facts
from layerguard.linter.facts.model import FileFacts, Scope
from layerguard.linter.facts.serialize import (
    InvalidFactsDataError,
    facts_from_data,
    facts_to_data,
)
from layerguard.linter.facts.settings import ExtractionSettings

SETTINGS = ExtractionSettings()


def facts_of(source: str, settings: ExtractionSettings = SETTINGS) -> FileFacts:
    return extract_facts(textwrap.dedent(source).lstrip("\n"), settings)


def imports_of(source: str) -> list[tuple[int, int, str, str | None, int, int]]:
    return [(i.line, i.col, i.module, i.name, i.level, i.scope) for i in facts_of(source).imports]


def test_every_static_import_form_with_position() -> None:
    source = """
        import a.b as c, d
        from ...L5_engines import engine
        from . import sibling
        from pkg import (
            one,
            two,
        )
        from x.y import *
        from __future__ import annotations
    """
    assert imports_of(source) == [
        (1, 1, "a.b", None, 0, 0),
        (1, 1, "d", None, 0, 0),
        (2, 1, "L5_engines", "engine", 3, 0),
        (3, 1, "", "sibling", 1, 0),
        (4, 1, "pkg", "one", 0, 0),
        (4, 1, "pkg", "two", 0, 0),
        (8, 1, "x.y", "*", 0, 0),
        (9, 1, "__future__", "annotations", 0, 0),
    ]


def test_scopes_type_checking_lazy_and_conditional() -> None:
    source = """
        import typing
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from app.models import Model
        if typing.TYPE_CHECKING:
            import sqlalchemy
        else:
            import fallback
        try:
            import ujson
        except ImportError:
            import json
        def load():
            from app.hoc.cus.other.L6_drivers import thing
            if flag:
                import deep
        class Repo:
            import at_class_level
            def method(self):
                import in_method
        f = lambda: __import__("lazy_lambda")
        with contextlib.suppress(ImportError):
            import optional
    """
    tc, lazy, cond = int(Scope.TYPE_CHECKING), int(Scope.LAZY), int(Scope.CONDITIONAL)
    got = {(i.module or i.name, i.scope) for i in facts_of(source).imports}
    assert got == {
        ("typing", 0),
        ("app.models", tc),
        ("sqlalchemy", tc),
        ("fallback", cond),
        ("ujson", cond),
        ("json", cond),
        ("app.hoc.cus.other.L6_drivers", lazy),
        ("deep", lazy | cond),
        ("at_class_level", 0),
        ("in_method", lazy),
        ("lazy_lambda", lazy),
        ("optional", cond),
    }


def test_dynamic_imports_with_literals_only() -> None:
    source = """
        import importlib
        def load(name):
            importlib.import_module("app.hoc.cus.x.L5_engines.y")
            __import__("plugins.core")
            importlib.import_module(name)
            importlib.import_module(".sub", package="app.hoc")
            importlib.import_module(".sub", package=name)
    """
    dynamic = [(i.line, i.col, i.module) for i in facts_of(source).imports if i.dynamic]
    assert dynamic == [
        (3, 5, "app.hoc.cus.x.L5_engines.y"),
        (4, 5, "plugins.core"),
        (6, 5, "app.hoc.sub"),
    ]


def test_transaction_calls_whatever_the_receiver_and_never_in_strings() -> None:
    source = '''
        """Never call session.commit() here."""
        # session.rollback() in a comment
        class Repo:
            async def save(self, ctx, db, conn):
                note = "self._session.commit()"
                await self._session.commit()
                await ctx.session.rollback()
                async with session.begin():
                    db.begin_nested()
                await conn.flush()
                self.commit_count = 1
    '''
    facts = facts_of(source)
    calls = [(c.line, c.col, c.method, c.receiver, c.symbol) for c in facts.transaction_calls]
    assert calls == [
        (6, 15, "commit", "self._session", "Repo.save"),
        (7, 15, "rollback", "ctx.session", "Repo.save"),
        (8, 20, "begin", "session", "Repo.save"),
        (9, 13, "begin_nested", "db", "Repo.save"),
        (10, 15, "flush", "conn", "Repo.save"),
    ]


def test_transaction_calls_only_in_the_shape_of_sqlalchemys_api() -> None:
    """SQLAlchemy's commit/rollback/begin_nested take no argument and begin takes `nested=`
    only (`subtransactions=` in 1.x): a call that passes anything else (Qt's
    `QPainter.begin(device)`, `repo.commit(sha)`, pre-commit's `git.commit(repo=shadow)`) is
    not a transaction; `**kwargs` counts where a keyword is taken, and `async with x.begin():`
    counts."""
    source = """
        def paint(self, qp, session, options, parts, shadow):
            qp.begin(self)
            repo.commit("abc123")
            tx.rollback(*parts)
            session.begin(nested=True)
            session.begin_nested(**options)
            session.flush([self])
            qp.end()
            git.commit(repo=shadow)
            lock.commit(message="x")
            lock.rollback(**options)
            session.begin(**options)
            session.begin(subtransactions=True)
            conn.begin(isolation="SERIALIZABLE")
        async def save(session, conn):
            async with session.begin():
                pass
            async with conn.begin() as tx:
                await tx.commit()
    """
    facts = facts_of(source)
    calls = [(c.line, c.method, c.receiver) for c in facts.transaction_calls]
    assert calls == [
        (5, "begin", "session"),
        (7, "flush", "session"),
        (12, "begin", "session"),
        (13, "begin", "session"),
        (16, "begin", "session"),
        (18, "begin", "conn"),
        (19, "commit", "tx"),
    ]


def test_transaction_calls_on_modules_are_not_sessions() -> None:
    """A receiver that an `import` statement names is a module: `transaction.commit()` is a
    function of it, not a session's method. A `from` import may bind a module or an object
    (a scoped session): the call keeps the receiver's origin for the index to decide."""
    source = """
        import transaction
        import vcs.git as g
        import pkg.sub.mod
        from app.ext import db
        from app import git
        from .. import uow
        def run(self):
            transaction.commit()
            g.rollback()
            pkg.sub.begin()
            pkg.sub.session.commit()
            db.session.commit()
            git.commit()
            uow.commit()
            self.session.commit()
            pkg.save_all()
    """
    settings = ExtractionSettings(transaction_methods=(*SETTINGS.transaction_methods, "save_all"))
    calls = [(c.line, c.receiver, c.origin) for c in facts_of(source, settings).transaction_calls]
    assert calls == [
        (11, "pkg.sub.session", "pkg.sub.session"),
        (12, "db.session", "app.ext.db.session"),
        (13, "git", "app.git"),
        (14, "uow", "..uow"),
        (15, "self.session", None),
        (16, "pkg", None),  # a name the project adds: its own API, whatever the receiver
    ]


def test_a_name_also_bound_otherwise_is_not_resolved_through_its_import() -> None:
    """FastAPI's `def create(db: Session = Depends(get_db))` in a file that also imports a
    module `db`: the parameter is the session, and its commit counts."""
    source = """
        import transaction
        from app import db
        def create(db, item):
            db.commit()
        def replay(batches):
            for transaction in batches:
                transaction.commit()
    """
    calls = [(c.line, c.receiver, c.origin) for c in facts_of(source).transaction_calls]
    assert calls == [(4, "db", None), (7, "transaction", None)]


def test_configured_transaction_names_count_with_any_arguments() -> None:
    settings = ExtractionSettings(transaction_methods=(*SETTINGS.transaction_methods, "save_all"))
    facts = facts_of("uow.save_all(rows)\nqp.begin(widget)\n", settings)
    assert [(c.line, c.method) for c in facts.transaction_calls] == [(1, "save_all")]


def test_session_construction() -> None:
    source = """
        from sqlalchemy.orm import sessionmaker
        def make(engine):
            a = AsyncSession(engine)
            b = Session(bind=engine)
            c = sessionmaker(bind=engine)()
            d = AsyncSessionLocal()
            factory = sessionmaker(bind=engine)
            return orm.Session(engine)
    """
    built = [(s.line, s.factory) for s in facts_of(source).session_constructions]
    assert built == [
        (3, "AsyncSession"),
        (4, "Session"),
        (5, "sessionmaker()"),
        (6, "AsyncSessionLocal"),
        (8, "orm.Session"),
    ]


def test_session_construction_goes_by_what_the_name_was_imported_as() -> None:
    """An alias counts by its imported name (also in a statement without a factory's name),
    another package's `Session` is recorded with its origin for the index to drop, and a
    factory's name that an import made something else is not a session."""
    source = """
        import boto3
        import requests
        import sqlalchemy.orm
        from sqlalchemy import orm
        from sqlalchemy.orm import Session as S
        from sqlalchemy.ext.asyncio import async_sessionmaker as make
        from requests import Session
        from app.widgets import Frame as AsyncSession
        from .db import SessionLocal
        def make_all(engine):
            requests.Session()
            Session()
            boto3.Session(region_name="x")
            S(engine)
            orm.Session(engine)
            sqlalchemy.orm.Session(engine)
            make(engine)()
            AsyncSession()
            SessionLocal()
            AsyncSessionLocal()
    """
    built = [(s.line, s.factory, s.origin) for s in facts_of(source).session_constructions]
    assert built == [
        (11, "requests.Session", "requests.Session"),
        (12, "Session", "requests.Session"),
        (13, "boto3.Session", "boto3.Session"),
        (14, "S", "sqlalchemy.orm.Session"),
        (15, "orm.Session", "sqlalchemy.orm.Session"),
        (16, "sqlalchemy.orm.Session", "sqlalchemy.orm.Session"),
        (17, "make()", "sqlalchemy.ext.asyncio.async_sessionmaker"),
        (19, "SessionLocal", ".db.SessionLocal"),
        (20, "AsyncSessionLocal", None),
    ]


def test_a_name_bound_to_a_makers_result_is_a_factory_where_the_binding_is_seen() -> None:
    """It carries the maker's origin (for the index to drop another package's), and is seen
    in the statements the text pre-check would skip; a function-local binding stays local."""
    source = """
        from sqlalchemy import orm
        from other import sessionmaker as other_maker
        Maker: orm.sessionmaker = orm.sessionmaker(engine)
        a = b = other_maker()
        def f():
            local = orm.scoped_session(Maker)
            x = (local
                 ())
            return Maker(), a(), b()
        def g():
            return local()
    """
    built = [(s.line, s.factory, s.origin) for s in facts_of(source).session_constructions]
    assert built == [
        (7, "local", "sqlalchemy.orm.scoped_session"),
        (9, "Maker", "sqlalchemy.orm.sessionmaker"),
        (9, "a", "other.sessionmaker"),
        (9, "b", "other.sessionmaker"),
    ]


def test_registry_calls_with_literal_on_next_line_or_by_keyword() -> None:
    source = """
        async def route(registry, ctx, name):
            a = await registry.execute("policies.query", ctx)
            b = await registry.execute(
                "policies.update",
                ctx,
            )
            c = await self.registry.execute(operation="incidents.list", ctx=ctx)
            d = await registry.execute(name, ctx)
            registry.register("policies.query", PolicyQueryHandler())
            registry.register(operation="x.y", handler=handlers.XHandler)
            registry.get_handler("policies.query")
            other.execute("not.a.registry")
    """
    calls = [(c.line, c.kind, c.operation, c.handler) for c in facts_of(source).registry_calls]
    assert calls == [
        (2, "execute", "policies.query", None),
        (3, "execute", "policies.update", None),
        (7, "execute", "incidents.list", None),
        (8, "execute", None, None),
        (9, "register", "policies.query", "PolicyQueryHandler"),
        (10, "register", "x.y", "handlers.XHandler"),
        (11, "lookup", "policies.query", None),
    ]


def test_registry_names_are_configurable() -> None:
    settings = ExtractionSettings(registry_execute=("get_operation_registry().execute",))
    source = 'get_operation_registry().execute("z", ctx)\nregistry.execute("w", ctx)\n'
    calls = [(c.line, c.operation) for c in extract_facts(source, settings).registry_calls]
    assert calls == [(1, "z")]


def test_definitions_with_card_style_signatures() -> None:
    source = '''
        """Module docstring."""
        __all__ = ["OperationRegistry", "get_operation_registry"]

        def get_operation_registry() -> OperationRegistry:
            """Get the singleton."""

        @dataclass(frozen=True)
        class OperationResult(Base, metaclass=Meta):
            """Outcome."""

            @classmethod
            def ok(cls, data: Any) -> "OperationResult": ...

            @staticmethod
            def make(a, /, b=2, *args, c: int, **kw): ...

            async def execute(
                self,
                ctx: OperationContext,
            ) -> OperationResult: ...
    '''
    facts = facts_of(source)
    assert facts.docstring == "Module docstring."
    assert facts.all_names == ("OperationRegistry", "get_operation_registry")
    [function] = facts.functions
    assert (function.name, function.line, function.signature, function.docstring) == (
        "get_operation_registry",
        4,
        "get_operation_registry() -> OperationRegistry",
        "Get the singleton.",
    )
    [cls] = facts.classes
    assert (cls.name, cls.line, cls.bases, cls.docstring) == (
        "OperationResult",
        8,
        ("Base",),
        "Outcome.",
    )
    methods = [(m.name, m.line, m.signature, m.is_async, m.decorators) for m in cls.methods]
    assert methods == [
        ("ok", 12, 'ok(data: Any) -> "OperationResult"', False, ("classmethod",)),
        ("make", 15, "make(a, /, b=2, *args, c: int, **kw)", False, ("staticmethod",)),
        ("execute", 17, "execute(ctx: OperationContext) -> OperationResult", True, ()),
    ]


def test_definition_positions_after_decorators_and_odd_spacing() -> None:
    source = """
        # a comment above

        @decorator(
            arg,
        )
        @other
        async  def  handler(x): ...

        class  Spaced(
            Base,
        ):
            @property

            def value(self): ...
    """
    facts = facts_of(source)
    assert [(f.name, f.line, f.col) for f in facts.functions] == [("handler", 7, 13)]
    [cls] = facts.classes
    assert (cls.line, cls.col) == (9, 8)
    assert [(m.name, m.line, m.col) for m in cls.methods] == [("value", 14, 9)]


def test_suppression_comments() -> None:
    source = """
        from app.hoc.cus.x.L5_engines import y  # layerguard: ignore[LG101] legacy route, see #12
        # layerguard: ignore[LG201, lg202] -- migration script
        x = 1
        s = "# layerguard: ignore[LG101] in a string is not a comment"
        y = 2  # layerguard: ignore[LG101]
        z = 3  # layerguard: ignore
    """
    suppressions = facts_of(source).suppressions
    got = [(s.line, s.codes, s.reason, s.own_line, s.target_line) for s in suppressions]
    assert got == [
        (1, ("LG101",), "legacy route, see #12", False, 1),
        (2, ("LG201", "LG202"), "migration script", True, 3),
        (5, ("LG101",), "", False, 5),
        (6, (), "", False, 6),
    ]


def test_pep701_fstrings_and_312_syntax_parse() -> None:
    source = """
        type Alias = int
        def f[T](x: T) -> T:
            return f"{'a' + "b"}"
        import after
    """
    facts = facts_of(source)
    assert facts.syntax_error is None
    assert [(i.line, i.module) for i in facts.imports] == [(4, "after")]


@pytest.mark.parametrize(
    ("source", "line", "col", "message"),
    [
        ("def f(:\n    pass\n", 1, 7, "invalid syntax"),
        ("x = 1\n  y = 2\n", 2, 2, "unexpected indent"),
        ("import ok\nx = (\n", 2, 5, "'(' was never closed"),
    ],
)
def test_syntax_errors_are_facts_not_exceptions(
    source: str, line: int, col: int, message: str
) -> None:
    error = extract_facts(source, SETTINGS).syntax_error
    assert error is not None
    assert (error.line, error.col, error.message) == (line, col, message)


def test_undecodable_bytes_are_a_syntax_error() -> None:
    error = extract_facts(b"\xff\xfe\x00garbage", SETTINGS).syntax_error
    assert error is not None
    assert (error.line, error.message.startswith("cannot decode file")) == (1, True)


def test_crlf_and_tabs_keep_positions() -> None:
    source = "import a\r\n\r\nif x:\r\n\tfrom b import c\r\n\tsession.commit()\r\n"
    facts = extract_facts(source, SETTINGS)
    assert [(i.line, i.col) for i in facts.imports] == [(1, 1), (4, 2)]
    assert [(c.line, c.col) for c in facts.transaction_calls] == [(5, 2)]


def test_facts_round_trip_through_cache_data() -> None:
    source = """
        '''Doc.'''
        import a  # layerguard: ignore[LG101] because
        class C:
            def m(self, x: int = 1) -> None:
                self.s.commit()
                registry.execute("a.b", ctx)
                AsyncSession()
        def f(): ...
        __all__ = ["C"]
    """
    facts = facts_of(source)
    assert facts_from_data(json.loads(json.dumps(facts_to_data(facts)))) == facts
    broken = extract_facts("def (:\n", SETTINGS)
    assert facts_from_data(json.loads(json.dumps(facts_to_data(broken)))) == broken


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"imports": [[1, 1, "os", None, 0, 0, 0, None]]},  # dynamic: an int, not a bool
        {"imports": [[1, 1, "os", None, 0, 0, False]]},  # a field short
        {"classes": [["C", 1, 1, [], [["m", 1, 1, "m()", False, None, [3]]], None]]},
        {"suppressions": [[1, 1, ["LG1", 2], "why", False]]},
        {"all_names": "abc"},
        {"docstring": 3},
        {"syntax_error": [1, "x", "message"]},
        {"unknown": []},
    ],
)
def test_cache_data_of_the_wrong_shape_is_refused(data: object) -> None:
    with pytest.raises(InvalidFactsDataError):
        facts_from_data(data)


def test_a_null_byte_is_a_syntax_error_at_its_place() -> None:
    """CPython refuses such a file; libcst parsed it, then failed evaluating its strings."""
    error = extract_facts(b'"""doc\x00string"""\nimport os\n', SETTINGS).syntax_error
    assert error is not None
    assert (error.line, error.col, error.message) == (1, 7, "source cannot contain null bytes")
