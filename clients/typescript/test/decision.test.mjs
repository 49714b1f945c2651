// The rule on a snapshot, without a database: master switch → override → hold → bucket < percentage.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createSnapshot, decide, StaticSource, voiceAgentV2Bucket, VoiceAgentV2Flags } from "../dist/index.js";

const low = Array.from({ length: 200 }, (_, i) => `tenant-${i}`).find((t) => voiceAgentV2Bucket(t) < 10);
const high = Array.from({ length: 200 }, (_, i) => `tenant-${i}`).find((t) => voiceAgentV2Bucket(t) >= 90);

test("master switch off beats every override", () => {
  const s = createSnapshot({ enabled: false, percentage: 100, overrides: { [low]: true } });
  assert.equal(decide(s, low), false);
  assert.equal(decide(s, high), false);
});

test("an override beats the hold and the bucket; a hold beats the bucket", () => {
  const s = createSnapshot({ enabled: true, percentage: 100, overrides: { [low]: true, [high]: false }, held: [low, "held-only"] });
  assert.equal(decide(s, low), true, "override true beats the hold (enable-tenant --force)");
  assert.equal(decide(s, high), false, "override false beats the bucket");
  assert.equal(decide(s, "held-only"), false, "held, no override: v1 even at 100 %");
});

test("bucket < percentage: 0 % nobody, 100 % everybody, the boundary is strict", () => {
  assert.equal(decide(createSnapshot({ enabled: true, percentage: 0 }), low), false);
  assert.equal(decide(createSnapshot({ enabled: true, percentage: 100 }), high), true);
  const b = voiceAgentV2Bucket(low);
  assert.equal(decide(createSnapshot({ enabled: true, percentage: b }), low), false);
  assert.equal(decide(createSnapshot({ enabled: true, percentage: b + 1 }), low), true);
});

test("a bad percentage is refused", () => {
  assert.throws(() => createSnapshot({ enabled: true, percentage: 101 }), RangeError);
  assert.throws(() => createSnapshot({ enabled: true, percentage: 2.5 }), RangeError);
});

test("a client answers v1 before its first snapshot, then the source's state; a non-string id is v1", async () => {
  const never = { start() {}, async stop() {} };
  const errors = [];
  const waiting = new VoiceAgentV2Flags({ source: never, startupTimeoutMs: 50, onError: (e) => errors.push(e) });
  assert.equal(waiting.isEnabled(low), false);
  assert.equal(await waiting.start(), false);
  assert.match(errors[0].message, /no flags loaded within 50 ms; every tenant gets v1/);

  const source = new StaticSource({ enabled: true, percentage: 100 });
  const client = new VoiceAgentV2Flags({ source });
  const changed = [];
  client.on("changed", (s) => changed.push(s.percentage));
  assert.equal(await client.start(), true);
  assert.equal(client.isEnabled(high), true);
  assert.equal(client.isEnabled(undefined), false);
  source.setState({ enabled: true, percentage: 100, overrides: { [high]: false } });
  assert.equal(client.isEnabled(high), false);
  source.setState({ enabled: true, percentage: 100, overrides: { [high]: false } });
  assert.deepEqual(changed, [100, 100], "an identical reload is a refresh, not a change");
  await client.stop();
});

test("a bootstrap state serves until the first load", async () => {
  const never = { start() {}, async stop() {} };
  const client = new VoiceAgentV2Flags({ source: never, bootstrap: { enabled: true, percentage: 100 }, startupTimeoutMs: 10, onError: () => {} });
  assert.equal(client.isEnabled(high), true);
  assert.equal(client.isReady, false);
  await client.stop();
});
