"""Tenant scope: parse ``--tenant-ids a,b``, check the ids exist, hand the scope to SQL.

One convention (docs/INTERNALS.md, "Shared definitions"): a function or a parameterised query
takes the scope as a ``text[]`` parameter (NULL = every tenant); a SQL file that must also run
with ``psql -f`` (checks, fixes, templates that cannot take parameters) reads the transaction
setting ``voice_migration.tenant_ids`` as ``'a,b'`` (empty or unset = every tenant), which a DBA
sets with ``SET voice_migration.tenant_ids = 'a,b'``. Python parses and normalises ids only here.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from voice_migration.infra.errors import UsageError

SCOPE_SETTING = "voice_migration.tenant_ids"
_SHOWN = 10  # unknown ids named in an error message; the rest are counted


def parse_tenant_ids(text: str | None) -> list[str] | None:
    """``"a, b,,a"`` -> ``["a", "b"]`` (order kept, duplicates dropped); ``None`` -> ``None`` (all)."""
    if text is None:
        return None
    scope = normalise_tenant_ids(text.split(","))
    return None if scope is None else list(scope)


def normalise_tenant_ids(tenant_ids: Sequence[str] | None) -> tuple[str, ...] | None:
    """Strip, de-duplicate and check tenant ids; ``None`` means every tenant, an empty list is refused.

    A comma inside an id is refused: the ``'a,b'`` setting could not carry it.
    """
    if tenant_ids is None:
        return None
    cleaned = tuple(dict.fromkeys(t.strip() for t in tenant_ids if t.strip()))
    if not cleaned:
        raise UsageError("--tenant-ids is empty: give tenant ids separated by commas, e.g. --tenant-ids a,b")
    if any("," in t for t in cleaned):
        raise UsageError("a tenant id cannot contain a comma: give tenant ids separated by commas, e.g. a,b")
    return cleaned


def scope_setting_value(tenant_ids: Sequence[str] | None) -> str:
    """The value of ``voice_migration.tenant_ids`` for ``tenant_ids``: ``'a,b'``, or ``''`` for every tenant."""
    scope = normalise_tenant_ids(tenant_ids)
    return "" if scope is None else ",".join(scope)


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
    conn.execute("SELECT set_config(%s, %s, true)", (SCOPE_SETTING, scope_setting_value(tenant_ids)))


def describe_scope(tenant_ids: Sequence[str] | None) -> str:
    """``all tenants`` or ``3 tenants: a, b, c`` (shortened), for listings and summaries."""
    if tenant_ids is None:
        return "all tenants"
    head = ", ".join(tenant_ids[:3]) + (", ..." if len(tenant_ids) > 3 else "")
    return f"{len(tenant_ids)} tenant{'s' if len(tenant_ids) != 1 else ''}: {head}"
