// A zlib stream written directly from runs of zero bytes and the few other bytes between them:
// what an OpenAI mask's rows are once PNG's "Up" filter has made every unchanged pixel zero.
// zlib must still read every one of the mask's 4 bytes per pixel; this does work per run.

const ADLER_MOD = 65521;
const MAX_MATCH = 258;
/** Deflate's length codes 257..285: the shortest length each stands for, and its extra bits. */
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];

/** Deflate's fixed Huffman code for each literal/length symbol (RFC 1951, 3.2.6), bit-reversed for LSB-first packing. */
const FIXED = Array.from({ length: 288 }, (_, symbol) => {
  const [code, bits] = symbol < 144 ? [0x30 + symbol, 8] : symbol < 256 ? [0x190 + symbol - 144, 9] : symbol < 280 ? [symbol - 256, 7] : [0xc0 + symbol - 280, 8];
  return { code: reverse(code, bits), bits };
});

function reverse(code: number, bits: number): number {
  let reversed = 0;
  for (let i = 0; i < bits; i++) reversed |= ((code >> i) & 1) << (bits - 1 - i);
  return reversed;
}

/** For every match length 3..258: its symbol's code and extra bits, packed as one field, and the field's width. */
const MATCHES = Array.from({ length: MAX_MATCH + 1 }, (_, length) => {
  if (length < 3) return { value: 0, bits: 0 };
  let index = LENGTH_BASE.length - 1;
  while (LENGTH_BASE[index] > length) index--;
  const symbol = FIXED[257 + index];
  const extra = LENGTH_EXTRA[index];
  // Distance 1 (the byte before, repeated) is distance code 0: five zero bits.
  const value = symbol.code | ((length - LENGTH_BASE[index]) << symbol.bits);
  return { value, bits: symbol.bits + extra + 5 };
});

/**
 * Builds one zlib stream (a single fixed-Huffman block) byte by byte or run by run: `zeros(n)`
 * adds n zero bytes, `byte(v)` one byte; `finish()` returns the stream. Zeros after a zero are
 * written as matches of the byte before, so a run costs a few bits per 258 bytes.
 */
export class RunDeflate {
  private out: Uint8Array;
  private length = 2;
  private pending = 0; // bits not yet written out, the oldest lowest
  private pendingBits = 0;
  private last = -1; // the byte written before, -1 at the start
  private sum = 1; // Adler-32: 1 + the bytes so far, and the sum of those sums
  private sums = 0;
  private zeroRun = 0; // zeros added and not yet written

  constructor(expectedBytes = 64 * 1024) {
    this.out = new Uint8Array(Math.max(64, expectedBytes));
    this.out[0] = 0x78; // deflate, 32 KB window
    this.out[1] = 0x01; // fastest level; (0x78 * 256 + 0x01) is a multiple of 31, as zlib's header check asks
    this.bits(1, 1); // the last block
    this.bits(1, 2); // fixed Huffman codes
  }

  /** Bytes of the stream so far (the zeros still pending apart). */
  get size(): number {
    return this.length;
  }

  zeros(count: number): void {
    this.zeroRun += count;
  }

  byte(value: number): void {
    if (value === 0) {
      this.zeroRun++;
      return;
    }
    this.flushZeros();
    this.literal(value);
    this.sum = (this.sum + value) % ADLER_MOD;
    this.sums = (this.sums + this.sum) % ADLER_MOD;
  }

  finish(): Uint8Array {
    this.flushZeros();
    const end = FIXED[256];
    this.bits(end.code, end.bits);
    if (this.pendingBits > 0) this.bits(0, 8 - this.pendingBits);
    this.reserve(4);
    const adler = ((this.sums << 16) | this.sum) >>> 0;
    for (const shift of [24, 16, 8, 0]) this.out[this.length++] = (adler >>> shift) & 0xff;
    return this.out.subarray(0, this.length);
  }

  private flushZeros(): void {
    let count = this.zeroRun;
    if (count === 0) return;
    this.zeroRun = 0;
    // Adler-32 of n zeros: the first sum is unchanged, the second grows by n times it.
    this.sums = (this.sums + (count % ADLER_MOD) * this.sum) % ADLER_MOD;
    if (this.last !== 0) {
      this.literal(0);
      count--;
    }
    while (count >= 3) {
      const length = Math.min(count, MAX_MATCH);
      const match = MATCHES[length];
      this.bits(match.value, match.bits);
      count -= length;
    }
    for (; count > 0; count--) this.literal(0);
  }

  private literal(value: number): void {
    const symbol = FIXED[value];
    this.bits(symbol.code, symbol.bits);
    this.last = value;
  }

  /** Appends the low `count` bits of `value` (at most 24), lowest first. */
  private bits(value: number, count: number): void {
    this.pending |= value << this.pendingBits;
    this.pendingBits += count;
    if (this.pendingBits < 8) return;
    this.reserve(4);
    while (this.pendingBits >= 8) {
      this.out[this.length++] = this.pending & 0xff;
      this.pending >>>= 8;
      this.pendingBits -= 8;
    }
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.out.length) return;
    const grown = new Uint8Array(this.out.length * 2);
    grown.set(this.out.subarray(0, this.length));
    this.out = grown;
  }
}
