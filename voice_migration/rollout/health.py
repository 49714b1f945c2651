"""The rollout health gate: is the v2 cohort doing no worse than v1 over the last window?

Reads the v1 columns of ``voice_agent_calls`` (``sql/flags/cohorts.sql``): calls, failed calls
(``lower(status) IN ('failed', 'error')``) and p95 latency per cohort (``version`` 'v1'/'v2'). The gate
passes when both cohorts have enough calls to judge, v2's error rate is at most v1's plus a margin in
percentage points, and v2's p95 latency at most v1's plus a margin in percent. Every check carries its
evidence as one line, pass or fail, so the operator sees why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from voice_migration.infra.errors import ConfigurationError
from voice_migration.infra.settings import Environment
from voice_migration.rollout.state import Conn, as_int, flags_sql

DEFAULT_WINDOW = timedelta(hours=24)
DEFAULT_MAX_ERROR_RATE_INCREASE = 1.0  # percentage points
DEFAULT_MAX_P95_INCREASE = 10.0  # percent
DEFAULT_MIN_CALLS = 100

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, what: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"24h"``, ``"2d"`` as a timedelta; ``what`` names the setting in the error."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigurationError(f"{what}={text!r} is not a duration: use a number and a unit, e.g. 30m, 24h, 2d")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()])


def format_duration(value: timedelta) -> str:
    """A short human duration: ``"48h"``, ``"1h30m"``, ``"45s"``."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class HealthPolicy:
    """The gate's margins: how much worse v2 may be than v1, over which window, on how many calls."""

    window: timedelta = DEFAULT_WINDOW
    max_error_rate_increase: float = DEFAULT_MAX_ERROR_RATE_INCREASE
    max_p95_increase: float = DEFAULT_MAX_P95_INCREASE
    min_calls: int = DEFAULT_MIN_CALLS

    def __post_init__(self) -> None:
        if self.window <= timedelta(0):
            raise ConfigurationError("the health window must be positive, e.g. 24h")
        if self.max_error_rate_increase < 0 or self.max_p95_increase < 0:
            raise ConfigurationError("health margins cannot be negative; use 0 to demand v2 be no worse at all")
        if self.min_calls < 0:
            raise ConfigurationError("the minimum number of calls cannot be negative")

    @classmethod
    def configured(
        cls,
        *,
        window: str | None = None,
        max_error_rate_increase: float | None = None,
        max_p95_increase: float | None = None,
        min_calls: int | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> HealthPolicy:
        """The policy from explicit values (CLI options), else ``VOICE_MIGRATION_HEALTH_*``, else defaults."""
        env = Environment.of(environ)
        window_text = window or env.text("VOICE_MIGRATION_HEALTH_WINDOW", "24h")
        return cls(
            window=parse_duration(window_text, "--window" if window else "VOICE_MIGRATION_HEALTH_WINDOW"),
            max_error_rate_increase=_number(
                max_error_rate_increase, env, "VOICE_MIGRATION_HEALTH_MAX_ERROR_RATE_INCREASE", "1.0"
            ),
            max_p95_increase=_number(max_p95_increase, env, "VOICE_MIGRATION_HEALTH_MAX_P95_INCREASE", "10"),
            min_calls=int(_number(min_calls, env, "VOICE_MIGRATION_HEALTH_MIN_CALLS", "100")),
        )


@dataclass(frozen=True)
class CohortStats:
    """One cohort's calls over a window."""

    version: str
    calls: int = 0
    failed_calls: int = 0
    p95_latency_ms: float | None = None

    @property
    def error_rate(self) -> float | None:
        """Failed calls / calls (0..1), None without calls."""
        return self.failed_calls / self.calls if self.calls else None

    def describe(self) -> str:
        """``"v2: 1,234 calls, 0.8 % failed, p95 412 ms"``."""
        rate = "-" if self.error_rate is None else f"{self.error_rate * 100:.2f} %"
        p95 = "-" if self.p95_latency_ms is None else f"{self.p95_latency_ms:,.0f} ms"
        return f"{self.version}: {self.calls:,} calls, {rate} failed, p95 {p95}"


@dataclass(frozen=True)
class GateCheck:
    """One condition of the gate, with the numbers behind the verdict."""

    name: str
    passed: bool
    evidence: str


@dataclass(frozen=True)
class HealthReport:
    """The gate's verdict over ``window``: the two cohorts and each check."""

    window: timedelta
    v1: CohortStats
    v2: CohortStats
    checks: tuple[GateCheck, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)


def cohort_stats(conn: Conn, window: timedelta, *, now: datetime | None = None) -> tuple[CohortStats, CohortStats]:
    """The v1 and v2 cohorts' calls, failures and p95 latency since ``now() - window``.

    ``now`` (default: the database's ``now()``) ends the window instead: calls in ``(now - window, now]``.
    """
    found: dict[str, CohortStats] = {}
    rows = conn.execute(flags_sql("cohorts"), {"window": window, "now": now}).fetchall()
    for cohort, calls, failed, p95 in rows:
        version = str(cohort)
        found[version] = CohortStats(version, as_int(calls), as_int(failed), p95 if isinstance(p95, float) else None)
    return found.get("v1", CohortStats("v1")), found.get("v2", CohortStats("v2"))


def evaluate_health(conn: Conn, policy: HealthPolicy, *, now: datetime | None = None) -> HealthReport:
    """Compare the v2 cohort with v1 over ``policy.window``; every check says why it passed or failed.

    ``now`` ends the window (default: the database's clock); ``rollout watch`` passes its own clock.
    """
    v1, v2 = cohort_stats(conn, policy.window, now=now)
    window = format_duration(policy.window)
    checks = [
        GateCheck(
            "enough calls",
            v1.calls >= policy.min_calls and v2.calls >= policy.min_calls,
            f"{v1.calls:,} v1 and {v2.calls:,} v2 calls in the last {window} (need {policy.min_calls:,} each)",
        ),
        _error_rate_check(v1, v2, policy),
        _latency_check(v1, v2, policy),
    ]
    return HealthReport(policy.window, v1, v2, tuple(checks))


ATTRIBUTION_DOC = 'docs/rollout.md, "What the v2 application must write"'


def attribution_check(v2: CohortStats, on_v2_for: timedelta, window: timedelta) -> GateCheck | None:
    """Are v2's calls marked? ``None`` until tenants have been on v2 for longer than the gate's ``window``.

    The cohorts are told apart by ``voice_agent_calls.version``: a v2 application that does not write
    ``'v2'`` leaves the v2 cohort empty, and the gate would see "not enough calls" for ever. After a whole
    window on v2 without a single v2 call, the cause is named instead.
    """
    if on_v2_for < window:
        return None
    span = format_duration(window)
    if v2.calls:
        return GateCheck("v2 attribution", True, f"{v2.calls:,} calls marked version = 'v2' in the last {span}")
    return GateCheck(
        "v2 attribution",
        False,
        f"tenants have been on v2 for {format_duration(on_v2_for)} but no call of the last {span} has "
        "version = 'v2': the v2 application is not marking its calls; it must write version = 'v2' on every "
        f"call it handles ({ATTRIBUTION_DOC})",
    )


def _error_rate_check(v1: CohortStats, v2: CohortStats, policy: HealthPolicy) -> GateCheck:
    if v1.error_rate is None or v2.error_rate is None:
        return GateCheck("error rate", False, "no calls in one of the cohorts: nothing to compare")
    limit = v1.error_rate + policy.max_error_rate_increase / 100
    return GateCheck(
        "error rate",
        v2.error_rate <= limit,
        f"v2 {v2.error_rate * 100:.2f} % vs v1 {v1.error_rate * 100:.2f} % "
        f"(allowed up to {limit * 100:.2f} %: v1 + {policy.max_error_rate_increase:g} points)",
    )


def _latency_check(v1: CohortStats, v2: CohortStats, policy: HealthPolicy) -> GateCheck:
    if v1.p95_latency_ms is None or v2.p95_latency_ms is None:
        return GateCheck("p95 latency", False, "no latency recorded in one of the cohorts: nothing to compare")
    limit = v1.p95_latency_ms * (1 + policy.max_p95_increase / 100)
    return GateCheck(
        "p95 latency",
        v2.p95_latency_ms <= limit,
        f"v2 {v2.p95_latency_ms:,.0f} ms vs v1 {v1.p95_latency_ms:,.0f} ms "
        f"(allowed up to {limit:,.0f} ms: v1 + {policy.max_p95_increase:g} %)",
    )


def _number(explicit: float | None, env: Environment, name: str, default: str) -> float:
    return explicit if explicit is not None else env.number(name, default)
