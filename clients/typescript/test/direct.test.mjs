// The uncached calls, the Supabase (REST rpc) source, and the grants an application role needs.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { getRolloutStatus, shouldUseVoiceAgentV2, VoiceAgentV2Flags } from "../dist/index.js";
import { connect, defer, disagreements, freshDatabase, needsDatabase, pool, sqlDecisions, untilEvent } from "./helpers.mjs";

const SNAPSHOT_FUNCTION = process.env.VOICE_AGENT_V2_SNAPSHOT_FUNCTION_SQL;

/** What supabase-js `rpc` does through PostgREST — call a function with named arguments — over `pg`. */
function restLikeRpc(db) {
  const known = { voice_agent_v2_flag_snapshot: [], voice_agent_v2_enabled: ["tenant_id"] };
  return {
    async rpc(fn, args = {}) {
      if (!(fn in known)) return { data: null, error: { message: `Could not find the function public.${fn}`, code: "PGRST202" } };
      const names = known[fn];
      try {
        const { rows } = await db.query(
          `SELECT public.${fn}(${names.map((n, i) => `${n} => $${i + 1}`).join(", ")}) AS data`,
          names.map((n) => args[n]),
        );
        return { data: rows[0].data, error: null };
      } catch (error) {
        return { data: null, error: { message: error.message, code: error.code } };
      }
    },
  };
}

async function installSnapshotFunction(db) {
  await db.query(readFileSync(SNAPSHOT_FUNCTION, "utf8"));
}

test("shouldUseVoiceAgentV2 is voice_agent_v2_enabled, through pg and through rpc", needsDatabase, async (t) => {
  const url = await freshDatabase(t);
  const db = await connect(t, url);
  await db.query("UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 40");
  await db.query("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-1', true), ('tenant-2', false)");
  const pgPool = pool(t, url, { max: 2 });
  const supabase = restLikeRpc(pgPool);
  const ids = (await db.query("SELECT id FROM tenants ORDER BY id LIMIT 300")).rows.map((r) => r.id);
  const expected = await sqlDecisions(db, ids);
  for (const id of ids) {
    assert.equal(await shouldUseVoiceAgentV2(id, { db: pgPool }), expected.get(id), id);
    assert.equal(await shouldUseVoiceAgentV2(id, { supabase }), expected.get(id), id);
  }
});

test("the Supabase source polls rpc('voice_agent_v2_flag_snapshot') every TTL and agrees with SQL", needsDatabase, async (t) => {
  const url = await freshDatabase(t);
  const db = await connect(t, url);
  await installSnapshotFunction(db);
  const pgPool = pool(t, url, { max: 2 });
  const client = new VoiceAgentV2Flags({ supabase: restLikeRpc(pgPool), ttlMs: 200, startupTimeoutMs: 5000 });
  defer(t, () => client.stop());
  assert.equal(await client.start(), true);
  const ids = (await db.query("SELECT id FROM tenants ORDER BY id")).rows.map((r) => r.id);
  for (const [percentage, overrides] of [[30, ["tenant-5", true]], [70, ["tenant-9", false]], [100, ["tenant-5", false]]]) {
    await db.query("UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = $1", [percentage]);
    await db.query(
      "INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ($1, $2) " +
        "ON CONFLICT (tenant_id) DO UPDATE SET enabled = EXCLUDED.enabled",
      overrides,
    );
    const expected = await sqlDecisions(db, ids);
    await untilEvent(client, "refresh", () => disagreements(client, expected).length === 0, 3000);
  }
});

test("the Supabase source without the snapshot function says what to install and serves v1", needsDatabase, async (t) => {
  const url = await freshDatabase(t);
  // a database below revision 0012, which installs the function
  const owner = await connect(t, url);
  await owner.query("DROP FUNCTION voice_agent_v2_flag_snapshot()");
  const pgPool = pool(t, url, { max: 1 });
  const errors = [];
  const client = new VoiceAgentV2Flags({ supabase: restLikeRpc(pgPool), ttlMs: 200, startupTimeoutMs: 300, onError: (e) => errors.push(e) });
  defer(t, () => client.stop());
  assert.equal(await client.start(), false);
  assert.equal(client.isEnabled("tenant-1"), false);
  assert.match(errors[0].message, /alembic upgrade head .* install sql\/objects\/voice_agent_v2_flag_snapshot\/v1\.sql/);
});

test("getRolloutStatus reports flags, tenants in v2, overrides and the v1/v2 cohorts", needsDatabase, async (t) => {
  const url = await freshDatabase(t);
  const db = await connect(t, url);
  await db.query("UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 25");
  await db.query("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-1', true), ('tenant-2', false)");
  await db.query(
    "INSERT INTO voice_agent_calls (id, tenant_id, status, latency_ms, version, created_at) " +
      "SELECT 'c' || g, 'tenant-1', CASE WHEN g <= 2 THEN 'failed' ELSE 'completed' END, 100 * g, " +
      "CASE WHEN g % 2 = 0 THEN 'v2' ELSE 'v1' END, now() - interval '1 hour' FROM generate_series(1, 20) AS g",
  );
  const status = await getRolloutStatus({ db });
  const counts = (
    await db.query("SELECT count(*) FILTER (WHERE voice_agent_v2_enabled(id))::int AS v2, count(*)::int AS total FROM tenants")
  ).rows[0];
  assert.equal(status.enabled, true);
  assert.equal(status.percentage, 25);
  assert.equal(status.tenantsInV2, counts.v2);
  assert.equal(status.totalTenants, counts.total);
  assert.deepEqual(status.overrides, { enabled: 1, disabled: 1 });
  assert.equal(status.metrics.v1Calls, 10);
  assert.equal(status.metrics.v2Calls, 10);
  assert.equal(status.v1.failedCalls, 1);
  assert.equal(status.metrics.v2ErrorRate, 0.1);
  assert.ok(status.stepStartedAt instanceof Date);
});

test("an application role with the README's grants gets the same answers, cached and uncached", needsDatabase, async (t) => {
  const url = await freshDatabase(t);
  const db = await connect(t, url);
  await installSnapshotFunction(db);
  const role = `app_${process.pid}`;
  await db.query(`DROP ROLE IF EXISTS ${role}`);
  await db.query(`CREATE ROLE ${role} LOGIN PASSWORD 'app-secret'`);
  defer(t, async () => {
    // Roles are cluster-wide: drop it (its objects die with the database).
    await db.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await db.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  });
  // The grants of clients/typescript/README.md ("Grants for the application role").
  await db.query(`GRANT EXECUTE ON FUNCTION voice_agent_v2_enabled(text), voice_agent_v2_bucket(text), voice_agent_v2_flag_snapshot() TO ${role}`);
  await db.query(`GRANT SELECT ON voice_agent_v2_flags, voice_agent_v2_tenant_overrides TO ${role}`);
  await db.query(`CREATE POLICY ${role}_flags_read ON voice_agent_v2_flags FOR SELECT TO ${role} USING (true)`);
  await db.query(`CREATE POLICY ${role}_overrides_read ON voice_agent_v2_tenant_overrides FOR SELECT TO ${role} USING (true)`);
  const held = (await db.query("SELECT to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL AS e")).rows[0].e;
  if (held) {
    await db.query(`GRANT SELECT ON public.voice_agent_v2_held_tenants TO ${role}`);
    await db.query(`CREATE POLICY ${role}_held_read ON public.voice_agent_v2_held_tenants FOR SELECT TO ${role} USING (true)`);
  }
  await db.query("UPDATE voice_agent_v2_flags SET enabled = true, rollout_percentage = 50");
  await db.query("INSERT INTO voice_agent_v2_tenant_overrides (tenant_id, enabled) VALUES ('tenant-3', true)");
  const asApp = { user: role, password: "app-secret" };
  const client = new VoiceAgentV2Flags({ connectionString: url, pg: asApp, ttlMs: 600_000, startupTimeoutMs: 5000 });
  defer(t, () => client.stop());
  assert.equal(await client.start(), true);
  const ids = (await db.query("SELECT id FROM tenants ORDER BY id")).rows.map((r) => r.id);
  const expected = await sqlDecisions(db, ids);
  assert.ok([...expected.values()].some(Boolean));
  assert.deepEqual(disagreements(client, expected), []);
  const appPool = pool(t, url, { ...asApp, max: 1 });
  assert.equal(await shouldUseVoiceAgentV2("tenant-3", { db: appPool }), true);
  const rpcClient = new VoiceAgentV2Flags({ supabase: restLikeRpc(appPool), ttlMs: 600_000, startupTimeoutMs: 5000 });
  defer(t, () => rpcClient.stop());
  assert.equal(await rpcClient.start(), true);
  assert.deepEqual(disagreements(rpcClient, expected), []);
  // Without the policies the role sees no flags row: v1 for everyone, the safe side.
  await db.query(`DROP POLICY ${role}_flags_read ON voice_agent_v2_flags`);
  assert.equal(await shouldUseVoiceAgentV2("tenant-3", { db: appPool }), false);
});
