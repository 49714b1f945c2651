"""The rollout plan: the percentages to move through and how long to hold each (runbook section 5.2).

The default is the runbook's: 5 % and 10 % and 25 % for 24 h each, 50 % and 75 % for 48 h each, then
100 %. A plan is written ``"5:24h,10:24h,25:24h,50:48h,75:48h,100"`` (a step's hold is how long the
rollout must stay there before ``rollout advance`` moves on); ``--plan`` or ``VOICE_MIGRATION_ROLLOUT_PLAN``
replace it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from voice_migration.infra.errors import ConfigurationError
from voice_migration.rollout.health import format_duration, parse_duration

PLAN_ENV = "VOICE_MIGRATION_ROLLOUT_PLAN"
DEFAULT_PLAN_TEXT = "5:24h,10:24h,25:24h,50:48h,75:48h,100"


@dataclass(frozen=True)
class PlanStep:
    """One step: the percentage, and the minimum time to stay there before the next step."""

    percentage: int
    hold: timedelta


@dataclass(frozen=True)
class RolloutPlan:
    """Strictly increasing steps within 1..100."""

    steps: tuple[PlanStep, ...]

    def __post_init__(self) -> None:
        percentages = [step.percentage for step in self.steps]
        if (
            not percentages
            or percentages != sorted(set(percentages))
            or not 1 <= percentages[0] <= percentages[-1] <= 100
        ):
            raise ConfigurationError(
                f"rollout plan {self.describe()!r} is not valid: steps must rise strictly within 1..100, "
                f"e.g. {DEFAULT_PLAN_TEXT}"
            )

    @classmethod
    def parse(cls, text: str, what: str = "--plan") -> RolloutPlan:
        """Parse ``"5:24h,10:24h,...,100"``; ``what`` names the setting in errors."""
        steps = []
        for part in (p.strip() for p in text.split(",")):
            percentage, _, hold = part.partition(":")
            if not percentage.strip().isdigit():
                raise ConfigurationError(
                    f"{what}: step {part!r} is not PERCENT[:HOLD] (e.g. 25:24h); the whole plan reads {text!r}"
                )
            steps.append(PlanStep(int(percentage), parse_duration(hold, what) if hold.strip() else timedelta(0)))
        return cls(tuple(steps))

    @classmethod
    def configured(cls, text: str | None = None, environ: Mapping[str, str] | None = None) -> RolloutPlan:
        """The plan ``text`` (``--plan``), else ``VOICE_MIGRATION_ROLLOUT_PLAN``, else the runbook's default."""
        if text:
            return cls.parse(text, "--plan")
        env = os.environ if environ is None else environ
        return cls.parse(env.get(PLAN_ENV, "").strip() or DEFAULT_PLAN_TEXT, PLAN_ENV)

    def next_step(self, current: int) -> PlanStep | None:
        """The first step above ``current``; None at or past the last step."""
        return next((step for step in self.steps if step.percentage > current), None)

    def previous_step(self, current: int) -> PlanStep | None:
        """The last step below ``current``; None at or below the first step (a rollback then turns v2 off)."""
        below = [step for step in self.steps if step.percentage < current]
        return below[-1] if below else None

    def hold_for(self, current: int) -> timedelta:
        """How long ``current`` must be held: the hold of the highest step at or below it (0 below the first)."""
        holds = [step.hold for step in self.steps if step.percentage <= current]
        return holds[-1] if holds else timedelta(0)

    def describe(self) -> str:
        """``"5 % (24h) -> 10 % (24h) -> ... -> 100 %"``."""
        return " -> ".join(
            f"{s.percentage} %" + (f" ({format_duration(s.hold)})" if s.hold else "") for s in self.steps
        )


DEFAULT_PLAN = RolloutPlan.parse(DEFAULT_PLAN_TEXT)
