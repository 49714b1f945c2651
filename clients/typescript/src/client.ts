/**
 * {@link VoiceAgentV2Flags}: the in-process rollout check, shaped like the Unleash / OpenFeature node SDKs —
 * construct with options, `start()` (or `await ready()`), ask `isEnabled(tenantId)` synchronously on the hot
 * path, listen to `ready` / `changed` / `refresh` / `error`, `stop()` at shutdown.
 *
 * Failure policy (fail static, as the Python cached check): when the database cannot be reached the last
 * snapshot keeps serving and the source retries with back-off; before the first snapshot ever loads, every
 * tenant gets v1 (`false`) — always safe while both versions run — unless `bootstrap` gives a starting state.
 * The hot path does no I/O and takes no lock: the snapshot is an immutable object swapped by one assignment.
 */
import { EventEmitter } from "node:events";

import type pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";

import { createSnapshot, decide, V1_FOR_EVERYONE, type FlagSnapshot, type FlagState } from "./snapshot.js";
import {
  PgListenSource,
  RpcPollSource,
  type RefreshReason,
  type SnapshotSource,
  type SupabaseRpcClient,
} from "./sources.js";

/** Default TTL: reload at the latest every 30 s (as `VOICE_MIGRATION_FLAG_CACHE_TTL` in Python). */
export const DEFAULT_TTL_MS = 30_000;
/** Default time `start()` waits for the first snapshot. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000;
/** Environment variable with the TTL in seconds (the same one the Python client reads). */
export const CACHE_TTL_ENV = "VOICE_MIGRATION_FLAG_CACHE_TTL";

/** Options of {@link VoiceAgentV2Flags}. Give `connectionString` / `pg`, or `supabase`, or `source`. */
export interface VoiceAgentV2FlagsOptions {
  /** libpq URL of a direct (or session-mode pooled) connection; default `process.env.DATABASE_URL`. */
  connectionString?: string;
  /** Extra `pg.Client` configuration (ssl, user, password, ...); its values win over `connectionString`'s. */
  pg?: pg.ClientConfig;
  /** A supabase-js client: poll `rpc('voice_agent_v2_flag_snapshot')` every TTL instead of a `pg` connection. */
  supabase?: SupabaseRpcClient;
  /** A custom snapshot source (tests, other transports). */
  source?: SnapshotSource;
  /** LISTEN on `voice_agent_v2_flags` (default true; `pg` only). False = TTL polling only. */
  listen?: boolean;
  /** Reload at the latest every `ttlMs` (default `VOICE_MIGRATION_FLAG_CACHE_TTL` seconds, else 30 s). */
  ttlMs?: number;
  /** How long `start()` waits for the first snapshot (default 10 s); after that, v1 until one loads. */
  startupTimeoutMs?: number;
  /** A starting state served until the first snapshot loads (default: none = v1 for everyone). */
  bootstrap?: FlagState;
  /** Called on every error (also emitted as `error` when someone listens); default: `console.warn`. */
  onError?: (error: Error) => void;
}

/** Events of {@link VoiceAgentV2Flags}. */
export interface VoiceAgentV2FlagsEvents {
  /** The first snapshot loaded. */
  ready: [snapshot: FlagSnapshot];
  /** A snapshot loaded (every reload); `startedAt` is `performance.now()` when its read began. */
  refresh: [snapshot: FlagSnapshot, reason: RefreshReason, startedAt: number];
  /** A snapshot loaded whose state differs from the previous one. */
  changed: [snapshot: FlagSnapshot, previous: FlagSnapshot];
  /** Loading failed; the last snapshot keeps serving. */
  error: [error: Error];
}

/** The TTL from `VOICE_MIGRATION_FLAG_CACHE_TTL` (seconds) in ms, or the default; throws on a bad value. */
export function ttlFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = (env[CACHE_TTL_ENV] ?? "").trim();
  if (text === "") return DEFAULT_TTL_MS;
  const seconds = Number(text);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new RangeError(`${CACHE_TTL_ENV}=${JSON.stringify(text)} is not a positive number of seconds; use e.g. 30`);
  }
  return seconds * 1000;
}

function sameState(a: FlagSnapshot, b: FlagSnapshot): boolean {
  if (a.enabled !== b.enabled || a.percentage !== b.percentage) return false;
  if (a.overrides.size !== b.overrides.size || a.held.size !== b.held.size) return false;
  for (const [tenant, value] of a.overrides) if (b.overrides.get(tenant) !== value) return false;
  for (const tenant of a.held) if (!b.held.has(tenant)) return false;
  return true;
}

/** The cached rollout check. See the module comment. */
export class VoiceAgentV2Flags extends EventEmitter<VoiceAgentV2FlagsEvents> {
  readonly ttlMs: number;
  readonly startupTimeoutMs: number;
  private current: FlagSnapshot;
  private loaded: FlagSnapshot | null = null;
  private readonly source: SnapshotSource;
  private readonly onErrorCallback: ((error: Error) => void) | undefined;
  private started = false;
  private stopped = false;
  private startup: Promise<boolean> | null = null;
  private readyPromise: Promise<FlagSnapshot>;
  private resolveReady!: (snapshot: FlagSnapshot) => void;

  constructor(options: VoiceAgentV2FlagsOptions = {}) {
    super();
    this.ttlMs = options.ttlMs ?? ttlFromEnv();
    if (!(this.ttlMs > 0)) throw new RangeError(`ttlMs must be a positive number of ms, got ${String(options.ttlMs)}`);
    this.startupTimeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    this.current = options.bootstrap === undefined ? V1_FOR_EVERYONE : createSnapshot(options.bootstrap);
    this.onErrorCallback = options.onError;
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.source = options.source ?? VoiceAgentV2Flags.sourceFor(options, this.ttlMs);
  }

  private static sourceFor(options: VoiceAgentV2FlagsOptions, ttlMs: number): SnapshotSource {
    if (options.supabase !== undefined) return new RpcPollSource(options.supabase, ttlMs);
    const connectionString = options.connectionString ?? process.env["DATABASE_URL"];
    if ((connectionString === undefined || connectionString === "") && options.pg === undefined) {
      throw new Error(
        "voice agent v2 flags: no database configured; set DATABASE_URL or pass { connectionString } or { supabase }",
      );
    }
    // Parsed here so that `pg` options win over the URL (pg itself lets the URL win over its config).
    const config: pg.ClientConfig = {
      ...(connectionString ? parseIntoClientConfig(connectionString) : {}),
      ...(options.pg ?? {}),
    };
    return new PgListenSource({ config, listen: options.listen ?? true, ttlMs });
  }

  /** The snapshot in use (the bootstrap or v1-for-everyone one before the first load). */
  get snapshot(): FlagSnapshot {
    return this.current;
  }

  /** True once a snapshot has been loaded from the database. */
  get isReady(): boolean {
    return this.loaded !== null;
  }

  /**
   * Whether `tenantId` should use voice agent v2: the answer of `voice_agent_v2_enabled(tenantId)` as of the
   * last snapshot. Synchronous, no I/O. A non-string id (undefined, null) gets false, like SQL NULL.
   */
  isEnabled(tenantId: string): boolean {
    if (typeof tenantId !== "string") return false;
    return decide(this.current, tenantId);
  }

  /**
   * Start the source (idempotent) and wait up to `startupTimeoutMs` for the first snapshot. Resolves true
   * when one loaded, false on timeout (the client keeps trying and answers v1 meanwhile); never rejects.
   */
  start(): Promise<boolean> {
    if (this.startup === null) {
      if (this.stopped) return Promise.resolve(this.isReady);
      this.started = true;
      this.source.start({
        snapshot: (snapshot, reason, startedAt) => this.accept(snapshot, reason, startedAt),
        error: (error) => this.reportError(error),
      });
      this.startup = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          if (!this.isReady) {
            this.reportError(
              new Error(
                `voice agent v2 flags: no flags loaded within ${this.startupTimeoutMs} ms; every tenant gets ` +
                  (this.current === V1_FOR_EVERYONE ? "v1" : "the bootstrap state") +
                  " until they load",
              ),
            );
          }
          resolve(this.isReady);
        }, this.startupTimeoutMs);
        // Not unref'd: an `await start()` must resolve even when nothing else keeps the process alive.
        void this.readyPromise.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    }
    return this.startup;
  }

  /** Resolves with the first snapshot loaded from the database (no timeout; starts the client). */
  ready(): Promise<FlagSnapshot> {
    void this.start();
    return this.readyPromise;
  }

  /** Stop refreshing and close the connection. The last snapshot keeps answering. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.started) await this.source.stop();
  }

  private accept(snapshot: FlagSnapshot, reason: RefreshReason, startedAt: number): void {
    if (this.stopped) return;
    const previous = this.current;
    this.current = snapshot;
    const first = this.loaded === null;
    this.loaded = snapshot;
    this.emit("refresh", snapshot, reason, startedAt);
    if (first) {
      this.resolveReady(snapshot);
      this.emit("ready", snapshot);
    }
    if (!sameState(previous, snapshot)) this.emit("changed", snapshot, previous);
  }

  private reportError(error: Error): void {
    if (this.onErrorCallback !== undefined) this.onErrorCallback(error);
    else if (this.listenerCount("error") === 0) console.warn(error.message);
    // An EventEmitter throws on an 'error' nobody listens to: emit only when someone does.
    if (this.listenerCount("error") > 0) this.emit("error", error);
  }
}
