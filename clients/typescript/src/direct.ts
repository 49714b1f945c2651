/**
 * The uncached calls: the decision straight from SQL (one query), and the rollout status.
 * Each takes an explicit `db` (a `pg.Pool`, `pg.Client` or `PoolClient`) or `supabase` client, or uses a
 * small shared pool on `DATABASE_URL`.
 */
import pg from "pg";

import type { SupabaseRpcClient } from "./sources.js";
import { COHORTS, IS_ENABLED, STATUS } from "./sql.js";

/** Anything with `pg`'s `query(text, values)`: `pg.Pool`, `pg.Client`, `pg.PoolClient`. */
export interface Queryable {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/** Where an uncached call runs: `{ db }` or `{ supabase }`; default: the shared pool on `DATABASE_URL`. */
export interface QueryOptions {
  db?: Queryable;
  supabase?: SupabaseRpcClient;
}

let sharedPool: pg.Pool | null = null;

/** The shared pool on `DATABASE_URL` (created on first use, at most 2 connections). */
export function defaultPool(): pg.Pool {
  if (sharedPool === null) {
    const connectionString = process.env["DATABASE_URL"];
    if (connectionString === undefined || connectionString === "") {
      throw new Error("voice agent v2 flags: DATABASE_URL is not set; set it or pass { db } or { supabase }");
    }
    sharedPool = new pg.Pool({ connectionString, max: 2, application_name: "voice-agent-v2-flags" });
    sharedPool.on("error", () => undefined); // an idle client's error: the next query reconnects
  }
  return sharedPool;
}

/** Close the shared pool, if one was created. */
export async function closeDefaultPool(): Promise<void> {
  const pool = sharedPool;
  sharedPool = null;
  if (pool !== null) await pool.end();
}

/**
 * Whether `tenantId` should use voice agent v2, asked of the database: `SELECT voice_agent_v2_enabled($1)`
 * (one query), or `rpc('voice_agent_v2_enabled', { tenant_id })` through supabase-js. Rejects when the
 * database cannot answer (use the cached check on the hot path; it never rejects).
 */
export async function shouldUseVoiceAgentV2(tenantId: string, options: QueryOptions = {}): Promise<boolean> {
  if (options.supabase !== undefined) {
    const { data, error } = await options.supabase.rpc("voice_agent_v2_enabled", { tenant_id: tenantId });
    if (error !== null) throw new Error(`voice agent v2 flags: rpc voice_agent_v2_enabled failed: ${error.message}`);
    return data === true;
  }
  const db = options.db ?? defaultPool();
  const result = await db.query<{ voice_agent_v2_enabled: boolean | null }>(IS_ENABLED, [tenantId]);
  return result.rows[0]?.voice_agent_v2_enabled === true;
}

/** One cohort's calls over the status window. */
export interface CohortMetrics {
  calls: number;
  failedCalls: number;
  /** failed / calls, 0..1; null without calls. */
  errorRate: number | null;
  p95LatencyMs: number | null;
}

/** Where the rollout stands (the runbook's `getRolloutStatus`, as `voice-migration rollout status --format json`). */
export interface RolloutStatus {
  enabled: boolean;
  percentage: number;
  tenantsInV2: number;
  totalTenants: number;
  overrides: { enabled: number; disabled: number };
  updatedAt: Date;
  updatedBy: string;
  stepStartedAt: Date;
  metrics: {
    windowHours: number;
    v1Calls: number;
    v2Calls: number;
    v1ErrorRate: number | null;
    v2ErrorRate: number | null;
    v1P95LatencyMs: number | null;
    v2P95LatencyMs: number | null;
  };
  v1: CohortMetrics;
  v2: CohortMetrics;
}

function cohort(row: Record<string, unknown> | undefined): CohortMetrics {
  const calls = Number(row?.["calls"] ?? 0);
  const failedCalls = Number(row?.["failed_calls"] ?? 0);
  const p95 = row?.["p95_latency_ms"];
  return {
    calls,
    failedCalls,
    errorRate: calls > 0 ? failedCalls / calls : null,
    p95LatencyMs: p95 === null || p95 === undefined ? null : Number(p95),
  };
}

/**
 * Flags, tenants in v2 out of all tenants (counted by `voice_agent_v2_enabled`, so held tenants count as
 * v1), overrides, and v1 vs v2 calls, error rate and p95 latency over the last `windowHours` (default 24).
 * Needs a `pg` connection (`db` or `DATABASE_URL`): it reads the tenants and calls, an operator's query.
 */
export async function getRolloutStatus(options: { db?: Queryable; windowHours?: number } = {}): Promise<RolloutStatus> {
  const db = options.db ?? defaultPool();
  const windowHours = options.windowHours ?? 24;
  const status = await db.query<Record<string, unknown>>(STATUS);
  const row = status.rows[0];
  if (row === undefined) {
    throw new Error(
      "voice agent v2 flags: the voice_agent_v2_flags row is not visible to this role (grants and policies: docs/rollout.md)",
    );
  }
  const cohorts = await db.query<Record<string, unknown>>(COHORTS, [null, `${windowHours} hours`]);
  const v1 = cohort(cohorts.rows.find((r) => r["cohort"] === "v1"));
  const v2 = cohort(cohorts.rows.find((r) => r["cohort"] === "v2"));
  return {
    enabled: row["enabled"] === true,
    percentage: Number(row["rollout_percentage"]),
    tenantsInV2: Number(row["tenants_in_v2"]),
    totalTenants: Number(row["total_tenants"]),
    overrides: { enabled: Number(row["overrides_enabled"]), disabled: Number(row["overrides_disabled"]) },
    updatedAt: new Date(row["updated_at"] as string | Date),
    updatedBy: String(row["updated_by"]),
    stepStartedAt: new Date(row["step_started_at"] as string | Date),
    metrics: {
      windowHours,
      v1Calls: v1.calls,
      v2Calls: v2.calls,
      v1ErrorRate: v1.errorRate,
      v2ErrorRate: v2.errorRate,
      v1P95LatencyMs: v1.p95LatencyMs,
      v2P95LatencyMs: v2.p95LatencyMs,
    },
    v1,
    v2,
  };
}
