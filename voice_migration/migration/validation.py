"""Validation: run the DBA-readable SQL checks and the safe repairs, and report on them.

Every check is one file, a single SELECT that returns the violating rows (0 rows = pass) with
the columns ``check_name, severity, entity, id, tenant_id, detail``:

* ``sql/validation/*.sql`` — the v2 checks (runbook section 6); they need the database at head;
* ``sql/preflight/*.sql``  — the v1 pre-flight checks; they need only the v1 tables;
* ``sql/fix/*.sql``        — the safe repairs ``validate --fix`` applies.

Python only runs those files and summarises what they return: a check's outcome is decided
by the severities of its rows (a row may be *known* v1 damage, reported at ``low``), see
``docs/validation.md``. The tenant scope reaches the SQL through the session setting
``voice_migration.tenant_ids`` (``'a,b'``; empty = all), exactly as a DBA would set it in psql.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import psycopg
from psycopg import errors, sql
from psycopg.pq import TransactionStatus

from voice_migration.infra.errors import OperationRefused, UsageError
from voice_migration.infra.resources import read_sql, sql_dir
from voice_migration.migration.scope import (
    SCOPE_SETTING,
    normalise_tenant_ids,
    require_known_tenants,
    scope_setting_value,
)

Connection = psycopg.Connection[tuple[object, ...]]
Kind = Literal["validation", "preflight"]
Status = Literal["passed", "warning", "failed"]

#: Version of the JSON report layout (``docs/validation.md``); bump it on any incompatible change.
SCHEMA_VERSION = 1
#: Most to least severe. ``critical`` and ``high`` rows make validation fail (exit 1).
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low")
BLOCKING_SEVERITIES = frozenset({"critical", "high"})
#: The session setting the SQL files read their tenant scope from.
#: Example rows kept per check and severity; the counts are always complete.
EXAMPLES_PER_SEVERITY = 5
#: The repairs of ``validate --fix``, in the order they run: v2 columns are recomputed before the
#: metrics, because metrics count the calls' outcome codes.
FIX_ORDER: tuple[str, ...] = ("drifted_v2_columns", "empty_special_instructions", "stale_metrics")

#: Memory for the sorts of one check (metrics percentiles): enough to sort a million calls in memory.
VALIDATION_WORK_MEM = "128MB"
#: The backfill's switch: while on, the dual-write triggers leave a write alone, so a repair that
#: recomputes v2 from v1 is not echoed back into the v1 columns (sql/fix/drifted_v2_columns.sql).
BACKFILL_SETTING = "voice_migration.backfill"

_DIRECTORIES: dict[Kind, str] = {"validation": "validation", "preflight": "preflight"}
_FIELD = re.compile(r"^-- (?P<key>[a-z][a-z _-]*):(?P<value>.*)$")


@dataclass(frozen=True)
class Check:
    """One SQL check file and what its header says about it."""

    name: str
    severity: str
    description: str
    path: str  # relative to sql/, e.g. "validation/foreign_keys.sql"


@dataclass(frozen=True)
class Violation:
    """One violating row, as the check's SELECT returned it."""

    check_name: str
    severity: str
    entity: str
    id: str | None
    tenant_id: str | None
    detail: str


@dataclass(frozen=True)
class CheckResult:
    """How one check went: complete counts per severity, and a few example rows of each."""

    check: Check
    counts: Mapping[str, int]
    examples: tuple[Violation, ...]
    seconds: float

    @property
    def violations(self) -> int:
        """Number of violating rows of every severity."""
        return sum(self.counts.values())

    @property
    def worst_severity(self) -> str | None:
        """The most severe severity among the rows, or None when the check passed."""
        return next((s for s in SEVERITIES if self.counts.get(s)), None)

    @property
    def status(self) -> Status:
        """``passed`` (no rows), ``failed`` (critical or high rows: the run exits 1) or ``warning`` (only
        medium or low rows, e.g. known v1 damage or duplicate names v1 allowed: reported, never fatal).

        One meaning everywhere (issue #17 point 8): text, JSON and the exit code agree, because a check
        is ``failed`` exactly when it is :attr:`blocking`.
        """
        worst = self.worst_severity
        if worst is None:
            return "passed"
        return "failed" if worst in BLOCKING_SEVERITIES else "warning"

    @property
    def blocking(self) -> bool:
        """True when the check has critical or high rows: its status is ``failed`` and validation exits 1."""
        return self.worst_severity in BLOCKING_SEVERITIES


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of a validation or pre-flight run over one tenant scope and one snapshot."""

    kind: Kind
    tenant_ids: tuple[str, ...] | None
    results: tuple[CheckResult, ...]
    started_at: datetime
    seconds: float

    @property
    def passed(self) -> int:
        """Checks that returned no row."""
        return sum(r.status == "passed" for r in self.results)

    @property
    def failed(self) -> int:
        """Checks with critical or high rows (status ``failed``); any of them makes the run exit 1."""
        return sum(r.status == "failed" for r in self.results)

    @property
    def warnings(self) -> int:
        """Checks that returned only ``medium`` or ``low`` rows (status ``warning``)."""
        return sum(r.status == "warning" for r in self.results)

    @property
    def blocking(self) -> tuple[CheckResult, ...]:
        """The checks with critical or high rows."""
        return tuple(r for r in self.results if r.blocking)

    @property
    def ok(self) -> bool:
        """True when no check failed (no critical or high row); warnings are allowed."""
        return not self.blocking


@dataclass(frozen=True)
class FixAction:
    """One safe repair and how many rows it changed."""

    name: str
    description: str
    rows: int


@dataclass(frozen=True)
class FixReport:
    """What ``fix`` changed, and the validation run after it."""

    actions: tuple[FixAction, ...]
    validation: ValidationReport = field(repr=False)

    @property
    def rows(self) -> int:
        """Rows changed by every repair together (0 on a second run: the repairs are idempotent)."""
        return sum(a.rows for a in self.actions)


# --- discovering the SQL files -------------------------------------------------------------


def _header(text: str) -> dict[str, str]:
    """The ``-- key: value`` fields of a file's leading comment; indented comment lines continue a field."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _FIELD.match(line)
        if match:
            key = match["key"]
            fields[key] = match["value"].strip()
        elif key:
            fields[key] = f"{fields[key]} {line[2:].strip()}".strip()
    return fields


def available_checks(kind: Kind = "validation") -> tuple[Check, ...]:
    """The checks of ``sql/validation/`` (or ``sql/preflight/``), most severe first, then by name."""
    found = []
    for path in sorted((sql_dir() / _DIRECTORIES[kind]).glob("*.sql")):
        fields = _header(path.read_text(encoding="utf-8"))
        found.append(
            Check(
                name=fields.get("check", path.stem),
                severity=fields.get("severity", "critical"),
                description=fields.get("what", ""),
                path=f"{_DIRECTORIES[kind]}/{path.name}",
            )
        )
    return tuple(sorted(found, key=lambda c: (_rank(c.severity), c.name)))


def _rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def _select(kind: Kind, names: Sequence[str] | None) -> tuple[Check, ...]:
    checks = available_checks(kind)
    if names is None:
        return checks
    known = {c.name for c in checks}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown {kind} check {', '.join(sorted(unknown))}: the checks are the files in "
            f"sql/{_DIRECTORIES[kind]}/; use one of {', '.join(sorted(known))}"
        )
    return tuple(c for c in checks if c.name in set(names))


# --- running them ----------------------------------------------------------------------------


@contextmanager
def _session(
    conn: Connection, tenant_ids: tuple[str, ...] | None, settings: Mapping[str, str], *, snapshot: bool
) -> Iterator[None]:
    """A transaction (a savepoint inside the caller's) with the tenant scope and ``settings`` set locally.

    With ``snapshot`` and a transaction of its own, every check reads the same REPEATABLE READ,
    READ ONLY snapshot, so the report describes one moment while the application keeps writing.
    Repairs run READ COMMITTED instead: a concurrent writer must not make them fail.
    """
    own = conn.info.transaction_status == TransactionStatus.IDLE
    values = {SCOPE_SETTING: scope_setting_value(tenant_ids), **settings}
    with conn.transaction():
        if own and snapshot:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        previous = {name: conn.execute("SELECT current_setting(%s, true)", (name,)).fetchone() for name in values}
        # A mistyped tenant id would otherwise check nothing and pass.
        require_known_tenants(conn, tenant_ids)
        for name, value in values.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        yield
        # Inside a caller's transaction local settings would outlive our savepoint: put them back.
        for name, row in previous.items():
            old = "" if row is None or row[0] is None else str(row[0])  # "" reads as unset to our SQL
            conn.execute("SELECT set_config(%s, %s, true)", (name, old))


# The check's own text becomes a subquery: counts per severity are complete, examples are a few.
_SUMMARY = sql.SQL(
    """SELECT v.check_name, v.severity, v.entity, v.id, v.tenant_id, v.detail, v.n
FROM (SELECT c.*, count(*) OVER w AS n, row_number() OVER (w ORDER BY c.entity, c.id, c.detail) AS rn
      FROM (
{check}
) AS c
      WINDOW w AS (PARTITION BY c.severity)) AS v
WHERE v.rn <= {examples}
ORDER BY v.rn"""
)


def _check_sql(check: Check) -> sql.Composed:
    text = read_sql(check.path).rstrip().rstrip(";")
    return _SUMMARY.format(check=sql.SQL(text), examples=sql.Literal(EXAMPLES_PER_SEVERITY))


def _run_check(conn: Connection, check: Check) -> CheckResult:
    started = time.perf_counter()
    rows = conn.execute(_check_sql(check)).fetchall()
    counts: dict[str, int] = {}
    examples = []
    for name, severity, entity, ident, tenant, detail, n in rows:
        counts[str(severity)] = int(n)  # type: ignore[call-overload]
        examples.append(
            Violation(
                check_name=str(name),
                severity=str(severity),
                entity=str(entity),
                id=None if ident is None else str(ident),
                tenant_id=None if tenant is None else str(tenant),
                detail=str(detail),
            )
        )
    examples.sort(key=lambda v: (_rank(v.severity), v.entity, v.id or ""))
    ordered = {s: counts[s] for s in sorted(counts, key=_rank)}
    return CheckResult(check, ordered, tuple(examples), time.perf_counter() - started)


def _run(
    conn: Connection, kind: Kind, checks: Sequence[str] | None, tenant_ids: Sequence[str] | None
) -> ValidationReport:
    selected = _select(kind, checks)
    scope = normalise_tenant_ids(tenant_ids)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        with _session(conn, scope, {"work_mem": VALIDATION_WORK_MEM}, snapshot=True):
            results = tuple(_run_check(conn, check) for check in selected)
    except (errors.UndefinedTable, errors.UndefinedColumn, errors.UndefinedFunction) as exc:
        need = "the v2 schema (Alembic head)" if kind == "validation" else "the v1 tables"
        what = (
            "run `voice-migration migrate` or `alembic upgrade head` first"
            if kind == "validation"
            else ("adopt the database with `alembic stamp 0001_v1_baseline` or create it with `alembic upgrade head`")
        )
        raise OperationRefused(
            f"cannot run the {kind} checks: {exc.diag.message_primary or exc}; they need {need}; {what}"
        ) from exc
    return ValidationReport(kind, scope, results, started_at, time.perf_counter() - started)


def run_validation(
    conn: Connection, *, checks: Sequence[str] | None = None, tenant_ids: Sequence[str] | None = None
) -> ValidationReport:
    """Run the v2 checks of ``sql/validation/`` (all, or those named) over the tenant scope.

    Read-only. On an idle connection the checks share one REPEATABLE READ snapshot; inside the
    caller's transaction (a dry run) they see its uncommitted changes. Raises
    :class:`~voice_migration.infra.errors.UsageError` for an unknown check name and
    :class:`~voice_migration.infra.errors.OperationRefused` when the database is not at head.
    """
    return _run(conn, "validation", checks, tenant_ids)


def run_preflight(
    conn: Connection, tenant_ids: Sequence[str] | None = None, *, checks: Sequence[str] | None = None
) -> ValidationReport:
    """Run the v1 pre-flight checks of ``sql/preflight/``; they need only the v1 tables.

    Nothing they find stops a migration (bad rows are normalised or quarantined, never fatal),
    so their rows are ``medium`` (will be quarantined or stay invalid) or ``low`` (will be
    normalised) and ``report.ok`` is true unless a check file says otherwise.
    """
    return _run(conn, "preflight", checks, tenant_ids)


def fix(conn: Connection, tenant_ids: Sequence[str] | None = None, *, checks: Sequence[str] | None = None) -> FixReport:
    """Apply the safe repairs of ``sql/fix/`` over the tenant scope, then validate again.

    The repairs never delete and are idempotent (a second run changes 0 rows). They run in one
    transaction, committed at the end on an idle connection; inside the caller's transaction
    they are part of it. ``checks`` narrows the validation that follows, not the repairs.
    """
    _select("validation", checks)  # an unknown check name must fail before anything is changed
    scope = normalise_tenant_ids(tenant_ids)
    actions = []
    with _session(conn, scope, {BACKFILL_SETTING: "on"}, snapshot=False):
        for name in FIX_ORDER:
            path = f"fix/{name}.sql"
            text = read_sql(path)
            row = conn.execute(text.encode()).fetchone()
            rows = int(row[0]) if row else 0  # type: ignore[call-overload]
            actions.append(FixAction(name, _header(text).get("summary", name), rows))
    return FixReport(tuple(actions), run_validation(conn, checks=checks, tenant_ids=scope))


# --- reporting -----------------------------------------------------------------------------------


def report_dict(report: ValidationReport, fixes: FixReport | None = None) -> dict[str, object]:
    """The report as the documented JSON object (``docs/validation.md``, ``schema_version`` 1)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": report.kind,
        "ok": report.ok,
        "tenant_ids": None if report.tenant_ids is None else list(report.tenant_ids),
        "started_at": report.started_at.isoformat().replace("+00:00", "Z"),
        "duration_seconds": round(report.seconds, 3),
        "summary": {
            "total": len(report.results),
            "passed": report.passed,
            "failed": report.failed,
            "warnings": report.warnings,
            "blocking": len(report.blocking),
        },
        "checks": [
            {
                "name": r.check.name,
                "severity": r.check.severity,
                "status": r.status,
                "blocking": r.blocking,
                "description": r.check.description,
                "violations": r.violations,
                "by_severity": dict(r.counts),
                "duration_seconds": round(r.seconds, 3),
                "examples": [
                    {
                        "severity": v.severity,
                        "entity": v.entity,
                        "id": v.id,
                        "tenant_id": v.tenant_id,
                        "detail": v.detail,
                    }
                    for v in r.examples
                ],
            }
            for r in report.results
        ],
        "fixes": None
        if fixes is None
        else [{"name": a.name, "description": a.description, "rows": a.rows} for a in fixes.actions],
    }


def render_json(report: ValidationReport, fixes: FixReport | None = None) -> str:
    """The JSON report for CI (one object, ``schema_version`` first)."""
    return json.dumps(report_dict(report, fixes), ensure_ascii=False, indent=2)


_MARK: dict[Status, str] = {"passed": "✓", "warning": "!", "failed": "✗"}


def render_text(report: ValidationReport, fixes: FixReport | None = None) -> str:
    """The report for a person, laid out like the runbook's (section 6.3)."""
    scope = "all tenants" if report.tenant_ids is None else "tenants " + ", ".join(report.tenant_ids)
    title = f"{'Pre-flight' if report.kind == 'preflight' else 'Validation'} of {scope}"
    lines: list[str] = []
    if fixes is not None:
        lines += ["Fixes applied", "============="]
        lines += [f"{a.name}: {a.rows:,} {a.description}" for a in fixes.actions]
        lines.append("")
    lines += [
        title,
        "=" * len(title),
        f"Total checks: {len(report.results)}",
        f"Passed: {report.passed}",
        f"Failed: {report.failed}",
        f"Warnings: {report.warnings}",
        f"Time: {report.seconds:.2f} s",
    ]
    for result in report.results:
        if result.status == "passed":
            continue
        by = ", ".join(f"{n:,} {s}" for s, n in result.counts.items())
        lines += [
            "",
            f"{_MARK[result.status]} {result.check.name} [{result.check.severity}]: {result.violations:,} ({by})",
        ]
        for v in result.examples:
            lines.append(f"    {v.severity:<8} {v.entity} {v.id or '-'} (tenant {v.tenant_id or '-'}): {v.detail}")
        shown = len(result.examples)
        if result.violations > shown:
            lines.append(f"    ... and {result.violations - shown:,} more")
    passed = [r.check.name for r in report.results if r.status == "passed"]
    if passed:
        lines += ["", f"{_MARK['passed']} passed: {', '.join(passed)}"]
    lines.append("")
    if report.ok:
        lines.append(f"{_MARK['passed']} {title}: no critical or high check failed.")
    else:
        names = ", ".join(r.check.name for r in report.blocking)
        lines.append(f"{_MARK['failed']} {title} FAILED: critical or high checks failed: {names}")
    return "\n".join(lines)
