/**
 * The whole flag state at one moment, and the rollout rule evaluated on it (DESIGN.md section 5),
 * exactly as `voice_agent_v2_enabled(tenant_id)` evaluates it in SQL:
 *
 *   1. master switch off → false (v1);
 *   2. the tenant's override, when it has one (true or false) — an override beats the hold: the audited
 *      `rollout enable-tenant --force` is how a held tenant is sent to v2;
 *   3. a held tenant (a row in `public.voice_agent_v2_held_tenants`: it has a config not in v2 shape) → false;
 *   4. bucket < rollout percentage.
 */
import { voiceAgentV2Bucket } from "./bucket.js";

/** The flag state as the database holds it (the input of {@link createSnapshot}; also the `bootstrap` option). */
export interface FlagState {
  /** The master switch (`voice_agent_v2_flags.enabled`). */
  enabled: boolean;
  /** `voice_agent_v2_flags.rollout_percentage`, 0..100. */
  percentage: number;
  /** Every override, tenant id → true (forced into v2) / false (kept on v1). */
  overrides?: Readonly<Record<string, boolean>> | ReadonlyMap<string, boolean>;
  /** Every held tenant (empty on a database without `public.voice_agent_v2_held_tenants`). */
  held?: Iterable<string>;
}

/** An immutable snapshot of the flags; `loadedAt` is `performance.now()` when it was read. */
export interface FlagSnapshot {
  readonly enabled: boolean;
  readonly percentage: number;
  readonly overrides: ReadonlyMap<string, boolean>;
  readonly held: ReadonlySet<string>;
  readonly loadedAt: number;
}

/** Build a frozen {@link FlagSnapshot} from a {@link FlagState}; validates the percentage. */
export function createSnapshot(state: FlagState, loadedAt: number = performance.now()): FlagSnapshot {
  const percentage = Number(state.percentage);
  if (!Number.isInteger(percentage) || percentage < 0 || percentage > 100) {
    throw new RangeError(`rollout percentage must be an integer 0..100, got ${String(state.percentage)}`);
  }
  const overrides =
    state.overrides instanceof Map
      ? new Map(state.overrides)
      : new Map(Object.entries(state.overrides ?? {}).map(([k, v]) => [k, Boolean(v)] as const));
  return Object.freeze({
    enabled: Boolean(state.enabled),
    percentage,
    overrides,
    held: new Set(state.held ?? []),
    loadedAt,
  });
}

/** The snapshot served before any flags were ever loaded: everybody on v1. */
export const V1_FOR_EVERYONE: FlagSnapshot = createSnapshot({ enabled: false, percentage: 0 }, 0);

/** The rollout rule on one snapshot (see the module comment); no I/O. */
export function decide(snapshot: FlagSnapshot, tenantId: string): boolean {
  if (!snapshot.enabled) return false;
  const override = snapshot.overrides.get(tenantId);
  if (override !== undefined) return override;
  if (snapshot.held.has(tenantId)) return false;
  return voiceAgentV2Bucket(tenantId) < snapshot.percentage;
}
