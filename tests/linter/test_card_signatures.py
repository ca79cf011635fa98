"""Card signatures that leave some defaults out: `f(a: int = 1, b: int)` is not valid Python
(a parameter without a default follows one with a default), yet it is how another generator
writes `f(a: int = 1, b: int = 2)`. LG305 reads such a signature parameter by parameter and
compares it with the code's; everything but the left-out defaults is still compared."""

from __future__ import annotations

import pytest

from layerguard.linter.cards.derive import _parameters, signature_matches

CODE = 'get_policy(session: AsyncSession, tenant_id: str = "t", policy_id: int = 1) -> PolicyOut'


@pytest.mark.parametrize(
    "card",
    [
        # The audit's case: a stated default, then a left-out one.
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id: int) -> PolicyOut",
        "async get_policy(session: AsyncSession, tenant_id: str='t', policy_id: int)->PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str, policy_id: int = 1) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str, policy_id: int) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id: int,) -> PolicyOut",
    ],
)
def test_left_out_defaults_anywhere_match(card: str) -> None:
    assert signature_matches(card, CODE)


@pytest.mark.parametrize(
    "card",
    [
        "get_policy(session: AsyncSession, tenant_id: str = 'u', policy_id: int) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy: int) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id: str) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't') -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id: int, x) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id: int) -> Policy",
        "get_policy(session: AsyncSession, tenant_id: str = 't', policy_id: int)",
        "get_policy(tenant_id: str = 't', session: AsyncSession, policy_id: int) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', *, policy_id: int) -> PolicyOut",
        "get_policy(session: AsyncSession, tenant_id: str = 't', /, policy_id: int) -> PolicyOut",
        "fetch_policy(session: AsyncSession, tenant_id: str = 't', policy_id: int) -> PolicyOut",
    ],
)
def test_anything_else_is_still_a_difference(card: str) -> None:
    assert not signature_matches(card, CODE)


def test_kinds_and_brackets_are_read_parameter_by_parameter() -> None:
    code = (
        "page(t: str = 'a,b', /, n: dict[str, int] = {'x': 1}, *args: int, "
        "live: bool = (True, 'x)'), k: int = 2, **rest: str) -> list[tuple[int, str]]"
    )
    assert signature_matches(
        "page(t: str = 'a,b', /, n: dict[str, int], *args: int, live: bool = (True, 'x)'), "
        "k: int, **rest: str) -> list[tuple[int, str]]",
        code,
    )
    assert signature_matches(
        "page(t: str, /, n: dict[str, int] = {'x': 1}, *args: int, live: bool, k: int = 2, "
        "**rest: str) -> list[tuple[int, str]]",
        code,
    )
    # The same with a `/` or a `*args` moved, or a kind changed, is another signature.
    assert not signature_matches(
        "page(t: str = 'a,b', n: dict[str, int], /, *args: int, live: bool, k: int, "
        "**rest: str) -> list[tuple[int, str]]",
        code,
    )
    assert not signature_matches(
        "page(t: str = 'a,b', /, n: dict[str, int], *, live: bool, k: int, **rest: str) "
        "-> list[tuple[int, str]]",
        code,
    )
    assert not signature_matches(
        "page(t: str = 'a,b', /, n: dict[str, int], *args: int, live: bool, k: int, "
        "*rest: str) -> list[tuple[int, str]]",
        code,
    )


def test_a_lambda_default_keeps_its_commas_in_the_tolerant_reading() -> None:
    # Not valid Python (a parameter without a default after one with), so it is read parameter
    # by parameter; the lambda's own commas and colon do not split it.
    code = "f(a: int = 1, key=lambda x, y: (x, y), b: int = 2) -> int"
    assert _parameters("f(a=1, key=lambda x, y: (x, y), b)") == [
        ("", "f", None, None),
        ("positional", "a", None, "1"),
        ("positional", "key", None, "lambda x, y: (x, y)"),
        ("positional", "b", None, None),
    ]
    assert signature_matches("f(a: int, key=lambda x, y: (x, y), b: int) -> int", code)
    assert not signature_matches("f(a: int, key=lambda x, y: (y, x), b: int) -> int", code)
    assert not signature_matches("f(a: int, key=lambda x, y: (x, y), b: str) -> int", code)


@pytest.mark.parametrize(
    "card",
    [
        "f(a=1, b",  # unclosed
        "f(a=1,, b)",  # an empty parameter
        "f(,)",
        "f(a=1, b)(c)",  # something after the parameters that is not a return annotation
        "f(a=1, b) int",
        "f(a=1, b) ->",
        "class(a=1, b)",  # not a function name
        "f(/, a=1, b)",  # `/` with nothing before it
        "f(a=1, *, b, /)",  # `/` after `*`
        "f(a=1, *, *, b)",
        "f(a=1, *args, *, b)",
        "f(a=1, **kw, b)",  # nothing follows **kwargs
        "f(a=1, b c)",
        "not a signature",
    ],
)
def test_what_is_not_a_signature_is_not_read(card: str) -> None:
    assert _parameters(card) is None
    assert not signature_matches(card, "f(a=1, b=2)")
