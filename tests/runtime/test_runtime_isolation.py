"""The core and the pytest plugin import nothing heavy; checked in fresh interpreters where
fastapi, sqlalchemy and opentelemetry cannot be imported at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK = """
import sys
for name in ("fastapi", "sqlalchemy", "opentelemetry", "starlette", "pydantic"):
    sys.modules[name] = None  # any import of these now raises ImportError
"""


def run(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCK) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


def test_core_registers_and_executes_without_fastapi_sqlalchemy_or_otel() -> None:
    out = run(
        """
        import asyncio
        import layerguard.runtime as rt

        class Hello:
            async def execute(self, ctx):
                return rt.OperationResult.ok(f"hello {ctx.tenant_id}")

        audit = rt.InMemoryAuditSink()
        registry = rt.OperationRegistry(audit_sinks=[audit, rt.LoggingAuditSink()])
        registry.register("greet.hello", Hello())
        registry.freeze()
        result = asyncio.run(registry.execute("greet.hello", rt.OperationContext(tenant_id="t1")))
        print(result.data, result.operation, len(audit.records))
        heavy = [m for m in sys.modules if m.split(".")[0] in ("fastapi", "sqlalchemy",
                 "opentelemetry") and sys.modules[m] is not None]
        print("heavy:", heavy)
        """
    )
    assert out.splitlines() == ["hello t1 greet.hello 1", "heavy: []"]


def test_session_dependency_says_which_extra_is_missing() -> None:
    out = run(
        """
        import layerguard.runtime as rt
        try:
            rt.get_session_dep
        except ImportError as exc:
            print(exc)
        """
    )
    assert out.startswith(
        "layerguard.runtime.get_session_dep needs the optional dependencies: "
        "pip install 'layerguard[sqlalchemy]'"
    )


def test_otel_sink_is_a_no_op_without_opentelemetry() -> None:
    out = run(
        """
        from layerguard.runtime.integrations.otel import OTelSpanSink
        print(OTelSpanSink().enabled())
        """
    )
    assert out == "False"


def test_pytest_plugin_imports_nothing_heavy() -> None:
    """Loaded in every pytest session of every user: beyond pytest itself, only the stdlib
    and the stdlib-only core (its parent package) may come in; no integration."""
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pytest; before = set(sys.modules)\n"
            "import layerguard.runtime.testing.plugin\n"
            "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))\n"
            "print(sorted(m for m in sys.modules if m.startswith('layerguard.runtime.integ')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    top_level, integrations = completed.stdout.strip().splitlines()
    third_party = {
        name.strip("' ")
        for name in top_level.strip("[]").split(",")
        if name.strip("' ") and name.strip("' ") not in sys.stdlib_module_names
    }
    assert third_party == {"layerguard"}
    assert integrations == "[]"
