// Cached checks per second in node — the TypeScript twin of bench/flags_bench.py's cached row.
//
// What: 100,000 tenant ids × 10 passes through the default cached check (`await
//   shouldUseVoiceAgentV2Cached(id)`, the runbook's call) and through the synchronous
//   `client.isEnabled(id)`, at 25 % with 1,000 overrides and 100 held tenants. The first pass is cold
//   (every bucket computed: md5 per id); the others are warm (memoised buckets), as in production where the
//   same tenants come back. With DATABASE_URL set the snapshot is loaded from that database (LISTEN and
//   all); without it a StaticSource serves the state and no database is touched — the hot path is the same.
//   The bucket memo is shared: only the first contender's first pass is cold (md5 for every id).
// Run: cd clients/typescript && npm run bench   (or: node bench/cached.mjs [tenants] [passes])
import { performance } from "node:perf_hooks";

import {
  closeVoiceAgentV2Flags,
  configureVoiceAgentV2Flags,
  shouldUseVoiceAgentV2Cached,
  StaticSource,
} from "../dist/index.js";

const tenants = Number(process.argv[2] ?? 100_000);
const passes = Number(process.argv[3] ?? 10);
const ids = Array.from({ length: tenants }, (_, i) => `tenant-${i + 1}`);
const overrides = Object.fromEntries(ids.slice(0, 1000).map((id, i) => [id, i % 2 === 0]));
const held = ids.slice(1000, 1100);

const useDb = Boolean(process.env.DATABASE_URL);
const client = await configureVoiceAgentV2Flags(
  useDb ? { ttlMs: 60_000 } : { source: new StaticSource({ enabled: true, percentage: 25, overrides, held }) },
);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function runAsync() {
  let inV2 = 0;
  const started = performance.now();
  for (let i = 0; i < ids.length; i++) if (await shouldUseVoiceAgentV2Cached(ids[i])) inV2++;
  return [ids.length / ((performance.now() - started) / 1000), inV2];
}

function runSync() {
  let inV2 = 0;
  const started = performance.now();
  for (let i = 0; i < ids.length; i++) if (client.isEnabled(ids[i])) inV2++;
  return [ids.length / ((performance.now() - started) / 1000), inV2];
}

const results = {};
for (const [name, run] of [["await shouldUseVoiceAgentV2Cached", runAsync], ["client.isEnabled (sync)", runSync]]) {
  const rates = [];
  let inV2 = 0;
  for (let p = 0; p < passes; p++) {
    const [rate, count] = await run();
    rates.push(rate);
    inV2 = count;
  }
  results[name] = { first: rates[0], warmMedian: median(rates.slice(1)), warmMin: Math.min(...rates.slice(1)), inV2 };
}
await closeVoiceAgentV2Flags();

console.log(`node ${process.version}, ${tenants.toLocaleString("en")} tenant ids × ${passes} passes, snapshot from ${useDb ? "DATABASE_URL" : "a StaticSource"}`);
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name.padEnd(36)} warm median ${(r.warmMedian / 1e6).toFixed(2)} M checks/s (min ${(r.warmMin / 1e6).toFixed(2)}), ` +
      `first pass ${(r.first / 1e6).toFixed(2)} M/s, ${r.inV2} in v2`,
  );
}
console.log(JSON.stringify({ tenants, passes, results }));
