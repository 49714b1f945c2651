// Shared by the node tests: databases cloned from the seeded template the Python suite prepares
// (tests/test_typescript_client.py), a deterministic PRNG, and waiting for client events.
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";

const PATTERN = process.env.VOICE_AGENT_V2_TEST_URL_PATTERN;
const TEMPLATE = process.env.VOICE_AGENT_V2_TEST_TEMPLATE;

/** `{ skip }` for tests that need the database when run outside pytest (pytest fails on any skip). */
export const needsDatabase =
  PATTERN && TEMPLATE
    ? {}
    : { skip: "no test database: run through `pytest tests/test_typescript_client.py` (or ./scripts/run-tests)" };

/** The URL of database `name` on the test server. */
export function databaseUrl(name) {
  return PATTERN.replace("__DB__", encodeURIComponent(name));
}

let counter = 0;
const deferred = new WeakMap();

/** Run `fn` when the test ends, before its database is dropped (last deferred runs first). */
export function defer(t, fn) {
  if (!deferred.has(t)) deferred.set(t, []);
  deferred.get(t).push(fn);
}

/** A fresh clone of the seeded template for this test, dropped when the test ends; returns its URL. */
export async function freshDatabase(t) {
  const name = `ts_${process.pid}_${counter++}_${Date.now() % 100000}`;
  const admin = new pg.Client({ connectionString: databaseUrl("postgres") });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE}"`);
  } finally {
    await admin.end();
  }
  t.after(async () => {
    for (const fn of (deferred.get(t) ?? []).reverse()) await fn();
    const dropper = new pg.Client({ connectionString: databaseUrl("postgres") });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await dropper.end();
  });
  return databaseUrl(name);
}

/** A connected `pg.Client` closed when the test ends. */
export async function connect(t, url, extra = {}) {
  const client = new pg.Client({ ...parseIntoClientConfig(url), ...extra });
  client.on("error", () => undefined); // terminated when the database is dropped
  await client.connect();
  defer(t, () => client.end().catch(() => undefined));
  return client;
}

/** mulberry32: a small deterministic PRNG, so a failing sequence of changes can be replayed. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolve with the result of `check()` at the first event `name` of `emitter` where it is truthy; reject after `ms`. */
export function untilEvent(emitter, name, check, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no '${name}' event satisfied the condition within ${ms} ms`));
    }, ms);
    function listener(...args) {
      const result = check(...args);
      if (result) {
        clearTimeout(timer);
        emitter.off(name, listener);
        resolve(result);
      }
    }
    emitter.on(name, listener);
  });
}

/** voice_agent_v2_enabled for each id, from the database: Map id → boolean. */
export async function sqlDecisions(db, ids) {
  const { rows } = await db.query("SELECT t, voice_agent_v2_enabled(t) AS v FROM unnest($1::text[]) AS t", [ids]);
  return new Map(rows.map((r) => [r.t, r.v]));
}

/** The ids where the client disagrees with `expected`. */
export function disagreements(client, expected) {
  const wrong = [];
  for (const [id, value] of expected) if (client.isEnabled(id) !== value) wrong.push(id);
  return wrong;
}

/** Does this database's voice_agent_v2_enabled know the quarantine hold (revision 0008_quarantine_hold)? */
export async function functionKnowsTheHold(db) {
  const { rows } = await db.query(
    "SELECT to_regclass('public.voice_agent_v2_held_tenants') IS NOT NULL " +
      "AND pg_get_functiondef('public.voice_agent_v2_enabled(text)'::regprocedure) LIKE '%voice_agent_v2_held_tenants%' AS aware",
  );
  return rows[0].aware === true;
}

/** A `pg.Pool` on `url` (extra config wins over the URL), ended when the test ends. */
export function pool(t, url, extra = {}) {
  const p = new pg.Pool({ ...parseIntoClientConfig(url), max: 2, ...extra });
  p.on("error", () => undefined);
  defer(t, () => p.end().catch(() => undefined));
  return p;
}
