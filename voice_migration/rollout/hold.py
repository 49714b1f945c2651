"""The quarantine hold, read side: which tenants are kept on v1 because v2 cannot read a config of theirs.

The set itself is ``public.voice_agent_v2_held_tenants``, kept by triggers (revision 0008_quarantine_hold,
``sql/objects/sync_held_tenants``). Every function here answers "nothing held" on a
database older than that revision, which has no set.
"""

from __future__ import annotations

from dataclasses import dataclass

from voice_migration.rollout.state import Conn, as_int, flags_sql

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class HoldSummary:
    """How many tenants are held on v1, by how many configs, and the first few ``(tenant, configs)``."""

    tenants: int = 0
    configs: int = 0
    sample: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        """``"2 tenants held on v1 by 3 configs in quarantine: t1 (2), t2 (1)"`` (empty string when none)."""
        if not self.tenants:
            return ""
        first = ", ".join(f"{tenant} ({configs})" for tenant, configs in self.sample)
        more = f", and {self.tenants - len(self.sample):,} more" if self.tenants > len(self.sample) else ""
        return (
            f"{self.tenants:,} tenant{'s' if self.tenants != 1 else ''} held on v1 by {self.configs:,} "
            f"config{'s' if self.configs != 1 else ''} in quarantine: {first}{more}"
        )

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {
            "tenants": self.tenants,
            "configs": self.configs,
            "first": [{"tenant_id": tenant, "configs": configs} for tenant, configs in self.sample],
        }


def held_set_exists(conn: Conn) -> bool:
    """True when the database has the held set (revision 0008_quarantine_hold or later)."""
    row = conn.execute("SELECT to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL").fetchone()
    return bool(row and row[0])


def hold_summary(conn: Conn, sample: int = SAMPLE_SIZE) -> HoldSummary:
    """Held tenants and configs, with the ``sample`` tenants with the most configs."""
    if not held_set_exists(conn):
        return HoldSummary()
    row = conn.execute(flags_sql("held_summary"), {"sample": sample}).fetchone()
    assert row is not None  # an aggregate always returns one row
    first = row[2] if isinstance(row[2], list) else []
    return HoldSummary(
        tenants=as_int(row[0]),
        configs=as_int(row[1]),
        sample=tuple((str(item["tenant_id"]), int(item["configs"])) for item in first),
    )


def held_configs(conn: Conn, tenant_id: str, limit: int = 10) -> list[tuple[str, str]]:
    """``(config id, quarantine reasons)`` of the tenant's configs not in v2 shape (empty: not held)."""
    if not held_set_exists(conn):
        return []
    rows = conn.execute(flags_sql("held_configs"), {"tenant_id": tenant_id, "limit": limit}).fetchall()
    return [(str(config), str(reasons)) for config, reasons in rows]
