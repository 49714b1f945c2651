// voiceAgentV2Bucket is voice_agent_v2_bucket (SQL) and bucket() (Python), bit for bit.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { computeBucket, computeBucketStreaming, voiceAgentV2Bucket } from "../dist/index.js";
import { connect, freshDatabase, needsDatabase } from "./helpers.mjs";

test("known buckets, including ids whose first md5 byte is >= 0x80 (a signed conversion would differ)", () => {
  // md5 prefixes: '' d41d8cd9, 'tenant-1' e000342e, '🎙️' a3b8c830 — all with the top bit set.
  assert.equal(voiceAgentV2Bucket(""), 93);
  assert.equal(voiceAgentV2Bucket("tenant-1"), 42);
  assert.equal(voiceAgentV2Bucket("🎙️"), 80);
  assert.equal(voiceAgentV2Bucket("e\u0301"), 63);
  assert.equal(voiceAgentV2Bucket("\ufefftenant-1"), 86);
  assert.equal(voiceAgentV2Bucket("שלום"), 52);
  // 0xe000342e = 3758109742 unsigned → 42; as a signed int32 it is -536857554 → -54: never a bucket.
  assert.equal(0xe000342e % 100, 42);
  assert.equal((0xe000342e | 0) % 100, -54);
});

test("the memoised bucket equals the computed one and stays within 0..99", () => {
  for (let i = 0; i < 5000; i++) {
    const id = `t-${i}-\u00e9`;
    const b = voiceAgentV2Bucket(id);
    assert.equal(b, computeBucket(id));
    assert.ok(Number.isInteger(b) && b >= 0 && b <= 99);
    assert.equal(voiceAgentV2Bucket(id), b);
  }
});

test("the bucket equals Python and SQL for the 10,000 parity strings", { skip: needsDatabase.skip }, () => {
  const parity = JSON.parse(readFileSync(process.env.VOICE_AGENT_V2_PARITY_FILE, "utf8"));
  assert.equal(parity.ids.length, 10000);
  for (const family of ["", "🎙️", "e\u0301", "\ufeff", "\u202etenant-1", "שלום"]) {
    assert.ok(parity.ids.includes(family), `the parity strings include ${JSON.stringify(family)}`);
  }
  const wrong = [];
  parity.ids.forEach((id, i) => {
    const ts = voiceAgentV2Bucket(id);
    if (ts !== parity.python[i] || ts !== parity.sql[i] || computeBucketStreaming(id) !== ts) wrong.push({ id, ts, python: parity.python[i], sql: parity.sql[i] });
  });
  assert.deepEqual(wrong.slice(0, 5), []);
});

test("the bucket equals voice_agent_v2_bucket for the same strings sent through pg", needsDatabase, async (t) => {
  const parity = JSON.parse(readFileSync(process.env.VOICE_AGENT_V2_PARITY_FILE, "utf8"));
  const db = await connect(t, await freshDatabase(t));
  // Lone surrogates are not text: node and pg both send them as U+FFFD, so the answers still agree.
  const ids = [...parity.ids, "\ud800", "tenant-\udfff-x"];
  const { rows } = await db.query(
    "SELECT voice_agent_v2_bucket(s) AS b FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n",
    [ids],
  );
  assert.equal(rows.length, ids.length);
  const wrong = ids.filter((id, i) => voiceAgentV2Bucket(id) !== rows[i].b || computeBucketStreaming(id) !== rows[i].b);
  assert.deepEqual(wrong.slice(0, 5), []);
});
