-- tables.sql — what `rollout watch` saw and did, and whether it is paused (issue #19).
--
-- What: creates, in the voice_migration schema (not readable by PUBLIC):
--   * voice_migration.rollout_evaluations — one row per evaluation of the health gate by the watcher:
--       when (the evaluation's clock), by which actor, the flags it saw, both cohorts' numbers over the
--       window, every check with its evidence (jsonb), the verdict (healthy / degraded / inconclusive /
--       off), the consecutive degraded and healthy counts after it, and what it did (none / advance /
--       rollback, with the flag audit row of the change). `audit_seen` is the newest flag audit id it saw:
--       a change by anyone else after it resets the counts (voice_migration.rollout.watch).
--   * voice_migration.rollout_pauses — a pause opened by an automatic rollback (who, when, why, the
--       evaluation and the audit row), closed by `voice-migration rollout resume --by WHO` (who, when,
--       why). At most one pause is open at a time (partial unique index); closed pauses stay as history.
--   About 300 evaluations a day at the default 5-minute interval: nothing needs pruning.
-- Inputs: none. Run by revision 0011_rollout_watch (after 0003 created the voice_migration schema).
-- Re-run: not safe (plain CREATE TABLE); its downgrade is sql/watch/downgrade.sql.

CREATE TABLE voice_migration.rollout_evaluations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    evaluated_at      timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    watcher           text NOT NULL,
    db_user           text NOT NULL DEFAULT session_user,
    enabled           boolean NOT NULL,
    -- squawk-ignore prefer-bigint-over-int -- a percentage, 0..100 like the flags row's
    percentage        integer NOT NULL,
    health_window     interval NOT NULL,
    v1_calls          bigint NOT NULL,
    v1_failed_calls   bigint NOT NULL,
    v1_p95_latency_ms double precision,
    v2_calls          bigint NOT NULL,
    v2_failed_calls   bigint NOT NULL,
    v2_p95_latency_ms double precision,
    checks            jsonb NOT NULL,
    verdict           text NOT NULL
                      CONSTRAINT rollout_evaluations_verdict
                      CHECK (verdict IN ('healthy', 'degraded', 'inconclusive', 'off')),
    -- squawk-ignore prefer-bigint-over-int -- counts of consecutive evaluations
    failures          integer NOT NULL,
    -- squawk-ignore prefer-bigint-over-int -- counts of consecutive evaluations
    successes         integer NOT NULL,
    paused            boolean NOT NULL,
    action            text NOT NULL
                      CONSTRAINT rollout_evaluations_action CHECK (action IN ('none', 'advance', 'rollback')),
    audit_id          bigint,
    audit_seen        bigint,
    note              text NOT NULL
);

COMMENT ON TABLE voice_migration.rollout_evaluations IS
    'rollout watch: every evaluation of the health gate (cohorts, checks, verdict, action); see docs/rollout.md';

CREATE TABLE voice_migration.rollout_pauses (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paused_at     timestamptz NOT NULL DEFAULT now(),
    paused_by     text NOT NULL,
    reason        text NOT NULL,
    evaluation_id bigint REFERENCES voice_migration.rollout_evaluations (id),
    audit_id      bigint,
    resumed_at    timestamptz,
    resumed_by    text,
    resume_reason text,
    CONSTRAINT rollout_pauses_resumed_by_whom CHECK ((resumed_at IS NULL) = (resumed_by IS NULL))
);

CREATE UNIQUE INDEX rollout_pauses_one_open ON voice_migration.rollout_pauses ((true)) WHERE resumed_at IS NULL;

COMMENT ON TABLE voice_migration.rollout_pauses IS
    'rollout watch: pauses after an automatic rollback; open until `voice-migration rollout resume --by WHO`';

REVOKE ALL ON voice_migration.rollout_evaluations, voice_migration.rollout_pauses FROM PUBLIC;
