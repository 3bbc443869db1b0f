import { test } from "node:test";
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { RunDeflate } from "./run-deflate.ts";

/** A seeded sequence, so that a failure names a case that can be run again. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x80000000;
  };
}

test("zlib inflates what it writes back to the same bytes, its checksum included, for runs of every length and every byte value", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = random(seed);
    const stream = new RunDeflate(seed % 2 ? 64 : 1 << 16); // a small start makes the output grow
    const expected: number[] = [];
    for (let part = 0; part < 300; part++) {
      if (next() < 0.5) {
        // Runs around the boundaries that matter: 1-2 (literals), 3, 258 and past it, very long ones.
        const lengths = [1, 2, 3, 4, 257, 258, 259, 260, 516, 517, 4097, 70_000];
        const count = next() < 0.5 ? lengths[Math.floor(next() * lengths.length)] : 1 + Math.floor(next() * 600);
        stream.zeros(count);
        for (let i = 0; i < count; i++) expected.push(0);
      } else {
        const value = Math.floor(next() * 256); // 0 included: a zero given as a byte
        stream.byte(value);
        expected.push(value);
      }
    }
    const inflated = inflateSync(stream.finish()); // node's zlib checks the header and the Adler-32
    assert.equal(inflated.length, expected.length, `seed ${seed}`);
    assert.ok(inflated.equals(Buffer.from(expected)), `seed ${seed}`);
  }
});

test("a long run of zeros costs a few bits per 258 bytes; an empty stream is a valid one", () => {
  const stream = new RunDeflate();
  stream.byte(2);
  stream.zeros(4 * 1024 * 1024);
  const bytes = stream.finish();
  assert.ok(bytes.length < 45_000, `${bytes.length} bytes for 4 MB of zeros`);
  assert.equal(inflateSync(bytes).length, 4 * 1024 * 1024 + 1);
  assert.equal(inflateSync(new RunDeflate().finish()).length, 0);
});
