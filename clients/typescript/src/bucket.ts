/**
 * The tenant's rollout bucket, bit for bit the SQL function `voice_agent_v2_bucket` (sql/flags/functions.sql):
 *
 *     (('x' || substr(md5(tenant_id), 1, 8))::bit(32)::bigint % 100)::integer
 *
 * The cast `bit(32)::bigint` reads the 32 bits as an *unsigned* number (0 .. 4,294,967,295): a 32-bit
 * pattern fits in a bigint without touching its sign bit. So the bucket is the first four bytes of the md5
 * digest as an unsigned big-endian integer, modulo 100 — exactly what `Buffer.readUInt32BE(0) % 100` gives.
 * (`| 0` or `readInt32BE` would be the one-character mistake: a signed conversion, wrong for half the ids.)
 *
 * md5 runs over the UTF-8 bytes of the string, as PostgreSQL does on a UTF8 database. A JavaScript string
 * can hold an unpaired surrogate, which is not text in UTF-8: Node encodes it as U+FFFD (EF BF BD), and so
 * does `pg` when it sends the same string to PostgreSQL, so `voiceAgentV2Bucket(s)` still equals
 * `SELECT voice_agent_v2_bucket($1)` with `s` as the parameter. (Python's `surrogatepass` gives other bytes,
 * but such an id can never be stored in PostgreSQL, so no tenant has one.) NUL cannot be in a PostgreSQL
 * text value either; the function just hashes it like any other byte.
 */
import * as crypto from "node:crypto";

/** How many buckets remember their tenant id; beyond that the oldest entries are forgotten (memory bound). */
export const BUCKET_CACHE_SIZE = 1 << 18;

const memo = new Map<string, number>();

// crypto.hash (node >= 20.12) is a one-shot digest, ~4x faster than createHash for short ids.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;

/** The bucket 0..99 of `tenantId`, computed (no memo): md5 of the UTF-8 bytes, first 4 bytes unsigned, mod 100. */
export function computeBucket(tenantId: string): number {
  if (oneShot !== undefined) {
    // 8 hex digits parse to 0 .. 2^32 - 1 exactly (a double holds integers to 2^53): unsigned, as in SQL.
    return parseInt(oneShot("md5", tenantId, "hex").slice(0, 8), 16) % 100;
  }
  return crypto.createHash("md5").update(tenantId, "utf8").digest().readUInt32BE(0) % 100;
}

/** The same through `createHash` (every node version); tests check that both paths agree. */
export function computeBucketStreaming(tenantId: string): number {
  return crypto.createHash("md5").update(tenantId, "utf8").digest().readUInt32BE(0) % 100;
}

/**
 * The tenant's rollout bucket 0..99, identical to `voice_agent_v2_bucket(tenant_id)` in SQL and
 * `voice_migration.rollout.cache.bucket` in Python for every string. Memoised (a tenant's bucket never
 * changes), with at most {@link BUCKET_CACHE_SIZE} entries so that ids from requests cannot grow memory.
 */
export function voiceAgentV2Bucket(tenantId: string): number {
  let bucket = memo.get(tenantId);
  if (bucket === undefined) {
    if (typeof tenantId !== "string") {
      throw new TypeError(`voiceAgentV2Bucket: tenantId must be a string, got ${typeof tenantId}`);
    }
    bucket = computeBucket(tenantId);
    if (memo.size >= BUCKET_CACHE_SIZE) {
      // Map iterates in insertion order: drop the oldest entry (FIFO; cheap and bounded).
      const oldest = memo.keys().next();
      if (!oldest.done) memo.delete(oldest.value);
    }
    memo.set(tenantId, bucket);
  }
  return bucket;
}
