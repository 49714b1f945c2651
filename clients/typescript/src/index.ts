/**
 * @voice-migration/feature-flags — the voice agent v2 rollout flag for TypeScript applications.
 *
 * Same answers as `voice_agent_v2_enabled(tenant_id)` in PostgreSQL and `voice_migration.flags` in Python:
 * master switch → override → quarantine hold → md5 bucket < percentage (DESIGN.md section 5).
 *
 *   import { shouldUseVoiceAgentV2Cached } from "@voice-migration/feature-flags";
 *   if (await shouldUseVoiceAgentV2Cached(tenantId)) { ... v2 ... } else { ... v1 ... }
 */
import { VoiceAgentV2Flags, type VoiceAgentV2FlagsOptions } from "./client.js";
import { closeDefaultPool } from "./direct.js";

export { BUCKET_CACHE_SIZE, computeBucket, computeBucketStreaming, voiceAgentV2Bucket } from "./bucket.js";
export {
  CACHE_TTL_ENV,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_TTL_MS,
  ttlFromEnv,
  VoiceAgentV2Flags,
  type VoiceAgentV2FlagsEvents,
  type VoiceAgentV2FlagsOptions,
} from "./client.js";
export {
  closeDefaultPool,
  getRolloutStatus,
  shouldUseVoiceAgentV2,
  type CohortMetrics,
  type Queryable,
  type QueryOptions,
  type RolloutStatus,
} from "./direct.js";
export { createSnapshot, decide, type FlagSnapshot, type FlagState } from "./snapshot.js";
export {
  loadSnapshot,
  PgListenSource,
  RETRY_DELAYS_MS,
  RpcPollSource,
  StaticSource,
  snapshotFromJson,
  snapshotFromRow,
  type RefreshReason,
  type SnapshotSource,
  type SourceHandlers,
  type SupabaseRpcClient,
} from "./sources.js";
export { CHANNEL } from "./sql.js";

let defaultClient: VoiceAgentV2Flags | null = null;

/**
 * Replace the default cached check used by {@link shouldUseVoiceAgentV2Cached} (stopping the previous one),
 * start it and wait (up to `startupTimeoutMs`) for its first snapshot. Call once at process start-up.
 */
export async function configureVoiceAgentV2Flags(options: VoiceAgentV2FlagsOptions = {}): Promise<VoiceAgentV2Flags> {
  const client = new VoiceAgentV2Flags(options);
  const previous = defaultClient;
  defaultClient = client;
  if (previous !== null) await previous.stop();
  await client.start();
  return client;
}

/** The default cached check (created from `DATABASE_URL` on first use unless configured). */
export function voiceAgentV2Flags(): VoiceAgentV2Flags {
  if (defaultClient === null) defaultClient = new VoiceAgentV2Flags();
  return defaultClient;
}

/**
 * Whether `tenantId` should use voice agent v2, from the in-process snapshot — the runbook's (section 5.4)
 * `await shouldUseVoiceAgentV2Cached(tenantId)`. No query per call. The first calls of a process wait (up to
 * the startup timeout) for the first snapshot; after that it answers at once, from the last snapshot when
 * the database is unreachable, and v1 (false) if no snapshot ever loaded. Never rejects for database errors.
 */
export function shouldUseVoiceAgentV2Cached(tenantId: string): Promise<boolean> {
  let client: VoiceAgentV2Flags;
  try {
    client = defaultClient ?? voiceAgentV2Flags();
  } catch (error) {
    // Not configured (no DATABASE_URL): a rejected promise with the reason, not a synchronous throw.
    return Promise.reject(error);
  }
  if (client.isReady) return Promise.resolve(client.isEnabled(tenantId));
  return client.start().then(() => client.isEnabled(tenantId));
}

/** Stop the default cached check and close the shared query pool (for a graceful shutdown, and tests). */
export async function closeVoiceAgentV2Flags(): Promise<void> {
  const client = defaultClient;
  defaultClient = null;
  if (client !== null) await client.stop();
  await closeDefaultPool();
}
