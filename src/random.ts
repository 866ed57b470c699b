/**
 * Seeded randomness. The generator is Philox4x32-10 (Salmon et al., 2011; the counter-based
 * generator PyTorch uses on CUDA): a 64-bit key from the seed and a 128-bit counter, each block
 * giving four 32-bit words. Uniform float32 uses the top 24 bits of a word, float64 53 bits of two
 * words; normals use Box-Muller on pairs of uniforms. Being counter-based, the same seed gives
 * the same numbers on every backend and in the browser.
 */
import { Tensor } from './autograd/tensor.js';
import { NDArray } from './ndarray/ndarray.js';
import { checkShape, prod } from './ndarray/shape.js';
import type { DType } from './ndarray/dtype.js';
import { getDefaultDevice } from './ndarray/backend.js';
import { rangeError } from './errors.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High and low 32 bits of a 32x32-bit product. */
function mulhilo(a: number, b: number): [number, number] {
  const lo = Math.imul(a, b) >>> 0;
  const aH = a >>> 16, aL = a & 0xffff, bH = b >>> 16, bL = b & 0xffff;
  const mid1 = aH * bL;
  const mid2 = aL * bH;
  const low = aL * bL;
  const carry = ((low >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  const hi = (aH * bH + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
  return [hi, lo];
}

/** One Philox4x32-10 block. */
export function philox4x32(ctr: readonly number[], key: readonly number[]): number[] {
  let c0 = ctr[0]! >>> 0, c1 = ctr[1]! >>> 0, c2 = ctr[2]! >>> 0, c3 = ctr[3]! >>> 0;
  let k0 = key[0]! >>> 0, k1 = key[1]! >>> 0;
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(M0, c0);
    const [hi1, lo1] = mulhilo(M1, c2);
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** A seeded random-number generator (torch.Generator). */
export class Generator {
  private key: [number, number] = [0, 0];
  private counter = 0;
  private buf: number[] = [];
  private initial = 0;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the stream to the start of `seed`. */
  manualSeed(seed: number): this {
    if (!Number.isInteger(seed) || seed < 0) throw rangeError('manualSeed', 'a non-negative integer seed', String(seed));
    this.initial = seed;
    this.key = [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
    this.counter = 0;
    this.buf = [];
    return this;
  }

  /** The seed this generator was last seeded with. */
  initialSeed(): number {
    return this.initial;
  }

  /** State for checkpoints: [seed, counter, buffered words]. */
  getState(): number[] {
    return [this.initial, this.counter, ...this.buf];
  }

  setState(state: readonly number[]): this {
    this.manualSeed(state[0]!);
    this.counter = state[1]!;
    this.buf = state.slice(2);
    return this;
  }

  /** Next uniformly distributed 32-bit word. */
  nextUint32(): number {
    if (this.buf.length === 0) {
      const c = this.counter++;
      this.buf = philox4x32([c >>> 0, Math.floor(c / 4294967296) >>> 0, 0, 0], this.key).reverse();
    }
    return this.buf.pop()!;
  }

  /** Uniform in [0, 1) with 24 bits (float32) or 53 bits (float64). */
  nextUniform(dtype: DType = 'float32'): number {
    if (dtype === 'float64') {
      const a = this.nextUint32() >>> 5;
      const b = this.nextUint32() >>> 6;
      return (a * 67108864 + b) / 9007199254740992;
    }
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Fills `out` with standard normals (Box-Muller, both outputs used). */
  fillNormal(out: Float64Array | number[], dtype: DType = 'float32'): void {
    for (let i = 0; i < out.length; i += 2) {
      const u1 = 1 - this.nextUniform(dtype); // (0, 1]
      const u2 = this.nextUniform(dtype);
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
  }
}

/** The default generator used when none is passed. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator (torch.manual_seed). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

/** Options of the random constructors. */
export interface RandomOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
  generator?: Generator;
}

function make(shape: readonly number[], opts: RandomOptions, fill: (g: Generator, n: number, dtype: DType) => ArrayLike<number>, op: string): Tensor {
  const s = checkShape(op, shape);
  const dtype = opts.dtype ?? 'float32';
  const g = opts.generator ?? defaultGenerator;
  const data = fill(g, prod(s), dtype);
  return new Tensor(NDArray.fromData(data, s, dtype, opts.device ?? getDefaultDevice()), { requiresGrad: opts.requiresGrad ?? false });
}

/** Uniform [0, 1). */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return make(shape, opts, (g, n, d) => Float64Array.from({ length: n }, () => g.nextUniform(d)), 'rand');
}

/** Standard normal. */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  return make(shape, opts, (g, n, d) => {
    const a = new Float64Array(n);
    g.fillNormal(a, d);
    return a;
  }, 'randn');
}

/** Bernoulli(p) mask as 0/1 values of `dtype` (float32 by default). */
export function bernoulliMask(shape: readonly number[], p: number, opts: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw rangeError('bernoulli', 'a probability in [0, 1]', String(p));
  return make(shape, opts, (g, n) => Float64Array.from({ length: n }, () => (g.nextUniform('float64') < p ? 1 : 0)), 'bernoulli');
}

/** Uniform on [low, high) (the building block of initializers). */
export function uniformTensor(shape: readonly number[], low: number, high: number, opts: RandomOptions = {}): Tensor {
  return make(shape, opts, (g, n, d) => Float64Array.from({ length: n }, () => low + (high - low) * g.nextUniform(d)), 'uniform');
}
