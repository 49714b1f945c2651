/**
 * Where snapshots come from:
 *  - {@link PgListenSource}: a dedicated `pg` connection that LISTENs on `voice_agent_v2_flags` (every flag,
 *    override and held-set change NOTIFYs at commit) and reloads at once on a notification, and at the
 *    latest every TTL (a lost notification costs at most one TTL);
 *  - {@link RpcPollSource}: supabase-js `rpc('voice_agent_v2_flag_snapshot')` every TTL, for an application
 *    that reaches the database only through Supabase's REST API (no LISTEN there).
 * Both keep going on errors: the client keeps serving the last snapshot and the source retries.
 */
import pg from "pg";

import { createSnapshot, type FlagSnapshot, type FlagState } from "./snapshot.js";
import { CHANNEL, HELD_SET_EXISTS, SNAPSHOT, SNAPSHOT_HELD, SNAPSHOT_RPC } from "./sql.js";

/** Why a snapshot was loaded. */
export type RefreshReason = "start" | "notify" | "ttl" | "reconnect";

/** What a source reports to the client. */
export interface SourceHandlers {
  /** A snapshot was loaded; `startedAt` is `performance.now()` when its query was sent. */
  snapshot(snapshot: FlagSnapshot, reason: RefreshReason, startedAt: number): void;
  /** Loading failed; the client keeps the last snapshot. */
  error(error: Error): void;
}

/** A source of snapshots the client starts and stops. */
export interface SnapshotSource {
  start(handlers: SourceHandlers): void;
  stop(): Promise<void>;
}

/** The part of a supabase-js client this package uses (any object with this `rpc` works). */
export interface SupabaseRpcClient {
  rpc(
    fn: string,
    args?: Record<string, unknown>,
  ): PromiseLike<{ data: unknown; error: { message: string; code?: string } | null }>;
}

/** Back-off between reconnection attempts (ms); the last value repeats. */
export const RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 5000, 10000];

function retryDelay(failures: number): number {
  return RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)] ?? 10000;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** Parse one snapshot row (`SNAPSHOT` / `SNAPSHOT_HELD`); no row = flags row invisible → v1 for everyone. */
export function snapshotFromRow(row: Record<string, unknown> | undefined): FlagSnapshot {
  if (row === undefined) return createSnapshot({ enabled: false, percentage: 0 });
  const overrides = row["overrides"];
  const held = row["held"];
  return createSnapshot({
    enabled: row["enabled"] === true,
    percentage: Number(row["rollout_percentage"]),
    overrides: typeof overrides === "object" && overrides !== null ? (overrides as Record<string, boolean>) : {},
    held: Array.isArray(held) ? held.map(String) : [],
  });
}

/** Parse the jsonb of `voice_agent_v2_flag_snapshot()`; null = flags row invisible → v1 for everyone. */
export function snapshotFromJson(data: unknown): FlagSnapshot {
  if (data === null || data === undefined) return createSnapshot({ enabled: false, percentage: 0 });
  const value = (typeof data === "string" ? JSON.parse(data) : data) as Record<string, unknown>;
  const overrides = value["overrides"];
  const held = value["held"];
  return createSnapshot({
    enabled: value["enabled"] === true,
    percentage: Number(value["percentage"]),
    overrides: typeof overrides === "object" && overrides !== null ? (overrides as Record<string, boolean>) : {},
    held: Array.isArray(held) ? held.map(String) : [],
  });
}

/** Read the whole flag state in one statement (plus a catalog probe for the held set). */
export async function loadSnapshot(db: { query: pg.Client["query"] }): Promise<FlagSnapshot> {
  const probe = await db.query<{ exists: boolean }>(HELD_SET_EXISTS);
  const withHeld = probe.rows[0]?.exists === true;
  const result = await db.query<Record<string, unknown>>(withHeld ? SNAPSHOT_HELD : SNAPSHOT);
  return snapshotFromRow(result.rows[0]);
}

/** Options of {@link PgListenSource}. */
export interface PgListenOptions {
  /** `pg` client configuration (connection string, ssl, ...). */
  config: pg.ClientConfig;
  /** LISTEN for changes (default true); false = TTL polling only (e.g. behind a transaction-mode pooler). */
  listen: boolean;
  /** Reload at the latest this often (ms). */
  ttlMs: number;
}

/** Snapshots over a dedicated `pg` connection: LISTEN/NOTIFY plus a TTL reload. */
export class PgListenSource implements SnapshotSource {
  private client: pg.Client | null = null;
  private handlers: SourceHandlers | null = null;
  private stopped = false;
  private failures = 0;
  private loading = false;
  private pending: RefreshReason | null = null;
  private ttlTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private everConnected = false;

  constructor(private readonly options: PgListenOptions) {}

  start(handlers: SourceHandlers): void {
    this.handlers = handlers;
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimers();
    const client = this.client;
    this.client = null;
    if (client !== null) {
      await client.end().catch(() => undefined);
    }
  }

  private clearTimers(): void {
    if (this.ttlTimer !== null) clearTimeout(this.ttlTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.ttlTimer = null;
    this.retryTimer = null;
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      application_name: "voice-agent-v2-flags",
      keepAlive: true,
      // A half-open socket must not hang a reload forever: the query fails and we reconnect.
      query_timeout: Math.max(5000, Math.min(this.options.ttlMs, 30000)),
      ...this.options.config,
    });
    this.client = client;
    client.on("error", (error: Error) => this.lost(client, error));
    client.on("end", () => this.lost(client, new Error("the flags connection was closed")));
    client.on("notification", (message) => {
      if (message.channel === CHANNEL) this.reload(client, "notify");
    });
    try {
      await client.connect();
      if (this.options.listen) {
        // LISTEN before the first load: a change committed in between is then not missed.
        await client.query(`LISTEN ${CHANNEL}`);
      }
      const reason: RefreshReason = this.everConnected ? "reconnect" : "start";
      this.everConnected = true;
      await this.reload(client, reason);
    } catch (error) {
      this.lost(client, asError(error));
    }
  }

  /** The connection failed: report it once, drop it, and reconnect after a back-off. */
  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = null;
    this.clearTimers();
    client.removeAllListeners("end");
    client.removeAllListeners("notification");
    client.on("error", () => undefined); // late errors of a dropped connection are expected
    void client.end().catch(() => undefined);
    const delay = retryDelay(this.failures);
    this.failures += 1;
    this.handlers?.error(new Error(`voice agent v2 flags: ${error.message}; serving the last known flags, retrying in ${delay} ms`, { cause: error }));
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }

  /** Load a snapshot; notifications that arrive meanwhile coalesce into one more load after it. */
  private async reload(client: pg.Client, reason: RefreshReason): Promise<void> {
    if (this.loading) {
      this.pending = reason;
      return;
    }
    this.loading = true;
    try {
      let next: RefreshReason | null = reason;
      while (next !== null && this.client === client && !this.stopped) {
        this.pending = null;
        const startedAt = performance.now();
        const snapshot = await loadSnapshot(client);
        if (this.client !== client || this.stopped) return;
        this.failures = 0;
        this.handlers?.snapshot(snapshot, next, startedAt);
        next = this.pending;
      }
      this.scheduleTtl(client);
    } catch (error) {
      this.lost(client, asError(error));
    } finally {
      this.loading = false;
    }
  }

  private scheduleTtl(client: pg.Client): void {
    if (this.ttlTimer !== null) clearTimeout(this.ttlTimer);
    this.ttlTimer = setTimeout(() => void this.reload(client, "ttl"), this.options.ttlMs);
    this.ttlTimer.unref();
  }
}

/** Snapshots through supabase-js `rpc('voice_agent_v2_flag_snapshot')`, polled every TTL. */
export class RpcPollSource implements SnapshotSource {
  private handlers: SourceHandlers | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failures = 0;
  private everLoaded = false;

  constructor(
    private readonly supabase: SupabaseRpcClient,
    private readonly ttlMs: number,
  ) {}

  start(handlers: SourceHandlers): void {
    this.handlers = handlers;
    this.stopped = false;
    void this.poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const startedAt = performance.now();
    let delay = this.ttlMs;
    try {
      const { data, error } = await this.supabase.rpc(SNAPSHOT_RPC);
      if (error !== null) {
        const hint =
          error.code === "PGRST202" || error.code === "42883"
            ? ` (run alembic upgrade head — revision 0012 installs it — or install sql/objects/${SNAPSHOT_RPC}/v1.sql, and grant EXECUTE on it to the API role)`
            : "";
        throw new Error(`rpc ${SNAPSHOT_RPC} failed: ${error.message}${hint}`);
      }
      const snapshot = snapshotFromJson(data);
      if (this.stopped) return;
      this.failures = 0;
      this.handlers?.snapshot(snapshot, this.everLoaded ? "ttl" : "start", startedAt);
      this.everLoaded = true;
    } catch (error) {
      // Retry sooner than the TTL while failing (but never more often than the back-off allows).
      delay = Math.min(this.ttlMs, retryDelay(this.failures));
      this.failures += 1;
      const cause = asError(error);
      this.handlers?.error(new Error(`voice agent v2 flags: ${cause.message}; serving the last known flags, retrying in ${delay} ms`, { cause }));
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), delay);
    this.timer.unref();
  }
}

/**
 * A source that serves one fixed state (like OpenFeature's in-memory provider): for the application's own
 * unit tests and for benchmarks. `setState` swaps it, as a NOTIFY would.
 */
export class StaticSource implements SnapshotSource {
  private handlers: SourceHandlers | null = null;

  constructor(private state: FlagState) {}

  start(handlers: SourceHandlers): void {
    this.handlers = handlers;
    handlers.snapshot(createSnapshot(this.state), "start", performance.now());
  }

  /** Serve `state` from now on. */
  setState(state: FlagState): void {
    this.state = state;
    this.handlers?.snapshot(createSnapshot(state), "notify", performance.now());
  }

  async stop(): Promise<void> {
    this.handlers = null;
  }
}
