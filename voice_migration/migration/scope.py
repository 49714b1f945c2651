"""Tenant scope: parse ``--tenant-ids a,b``, check the ids exist, hand the scope to SQL.

SQL files read the scope from the transaction setting ``voice_migration.scope_tenant_ids``
(the text of a ``text[]``; empty = every tenant), so the same file serves one tenant or all
and a DBA can run it with psql after a ``SET``. Functions that take parameters get the scope
as a ``text[]`` parameter instead (``None`` = every tenant), as INTERNALS.md says.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from voice_migration.infra.errors import UsageError

SCOPE_SETTING = "voice_migration.scope_tenant_ids"
_SHOWN = 10  # unknown ids named in an error message; the rest are counted


def parse_tenant_ids(text: str | None) -> list[str] | None:
    """``"a, b,,a"`` -> ``["a", "b"]`` (order kept, duplicates dropped); ``None``/empty -> ``None`` (all)."""
    if text is None:
        return None
    ids = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not ids:
        raise UsageError("--tenant-ids is empty: give tenant ids separated by commas, or leave the option out")
    return ids


def require_known_tenants(conn: psycopg.Connection[tuple[object, ...]], tenant_ids: Sequence[str] | None) -> None:
    """Raise :class:`UsageError` (exit 2) naming the ids that are not in ``tenants``; nothing for ``None``."""
    if tenant_ids is None:
        return
    row = conn.execute(
        "SELECT coalesce(array_agg(x ORDER BY o), '{}') FROM unnest(%s::text[]) WITH ORDINALITY AS u(x, o) "
        "WHERE NOT EXISTS (SELECT FROM tenants t WHERE t.id = u.x)",
        (list(tenant_ids),),
    ).fetchone()
    unknown = list(row[0]) if row else []  # type: ignore[call-overload]
    if unknown:
        shown = ", ".join(repr(t) for t in unknown[:_SHOWN])
        more = f" and {len(unknown) - _SHOWN} more" if len(unknown) > _SHOWN else ""
        raise UsageError(
            f"unknown tenant id(s) {shown}{more}: they are not in the tenants table; "
            "check the spelling, or leave --tenant-ids out to cover every tenant"
        )


def set_scope(conn: psycopg.Connection[tuple[object, ...]], tenant_ids: Sequence[str] | None) -> None:
    """Put the scope in the transaction setting read by the SQL files (reset at the transaction's end)."""
    conn.execute(
        "SELECT set_config(%s, coalesce(%s::text[]::text, ''), true)",
        (SCOPE_SETTING, None if tenant_ids is None else list(tenant_ids)),
    )


def describe_scope(tenant_ids: Sequence[str] | None) -> str:
    """``all tenants`` or ``3 tenants: a, b, c`` (shortened), for listings and summaries."""
    if tenant_ids is None:
        return "all tenants"
    head = ", ".join(tenant_ids[:3]) + (", ..." if len(tenant_ids) > 3 else "")
    return f"{len(tenant_ids)} tenant{'s' if len(tenant_ids) != 1 else ''}: {head}"
