/**
 * The Philox4x32-10 block function in plain TypeScript (src/random.ts describes the stream), shared
 * by the seeded generators and the reference kernel of Backend.philoxBernoulli.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of a 32x32-bit unsigned product (the low ones are Math.imul). */
function mulhi(a: number, b: number): number {
  const aH = a >>> 16, aL = a & 0xffff, bH = b >>> 16, bL = b & 0xffff;
  const mid1 = aH * bL;
  const mid2 = aL * bH;
  const low = aL * bL;
  const carry = ((low >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aH * bH + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/**
 * Philox4x32-10 of (c0..c3, k0, k1) into `out` (no allocation): ten rounds of
 * `(c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))` with the
 * key bumped by the Weyl constants after each round.
 */
export function philoxInto(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array | number[]): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/** Float64 uniform in [0, 1) from two words (53 bits): ((w1 >>> 5) * 2^26 + (w2 >>> 6)) / 2^53. */
export function uniform53(w1: number, w2: number): number {
  return ((w1 >>> 5) * 67108864 + (w2 >>> 6)) / 9007199254740992;
}

/**
 * Writes `size` Bernoulli(p) outcomes (`value` or 0) to out[offset...]: element i reads words
 * phase + 2i and phase + 2i + 1 of the stream from block `counter` under the key (see
 * Backend.philoxBernoulli).
 */
export function bernoulliInto(
  out: { [i: number]: number }, offset: number, size: number,
  key0: number, key1: number, counter: number, phase: number, p: number, value: number,
): void {
  const block = new Uint32Array(4);
  let ctr = counter;
  const k0 = key0 >>> 0;
  const k1 = key1 >>> 0;
  philoxInto(ctr >>> 0, Math.floor(ctr / 4294967296) >>> 0, 0, 0, k0, k1, block);
  let pos = phase;
  let first = 0;
  let have = false;
  for (let i = 0; i < size; ) {
    if (pos === 4) {
      ctr++;
      philoxInto(ctr >>> 0, Math.floor(ctr / 4294967296) >>> 0, 0, 0, k0, k1, block);
      pos = 0;
    }
    const w = block[pos++]!;
    if (!have) {
      first = w;
      have = true;
    } else {
      out[offset + i++] = uniform53(first, w) < p ? value : 0;
      have = false;
    }
  }
}
