/**
 * Seeded randomness. The generator is Philox4x32-10 (Salmon et al., 2011; the counter-based
 * generator PyTorch uses on CUDA): a 64-bit key from the seed and a 128-bit counter, each block
 * giving four 32-bit words. Uniform float32 uses the top 24 bits of a word, float64 53 bits of two
 * words; normals use Box-Muller on pairs of uniforms. Being counter-based, the same seed gives
 * the same numbers on every backend and in the browser.
 *
 * ## The stream (what another implementation must reproduce)
 *
 * - Key: `key = [seed mod 2^32, floor(seed / 2^32) mod 2^32]` (seed is a non-negative integer).
 * - Block `b` (b = 0, 1, 2, ...): `philox4x32(ctr = [b mod 2^32, floor(b / 2^32), 0, 0], key)`,
 *   ten rounds, multipliers 0xD2511F53 / 0xCD9E8D57, Weyl constants 0x9E3779B9 / 0xBB67AE85.
 * - The generator is one stream of 32-bit words: word `i` (0-based) is word `i mod 4` of block
 *   `floor(i / 4)`. Every function consumes words in order, element by element in row-major
 *   order; a {@link Generator} remembers its position ({@link Generator.wordOffset}).
 * - Uniform float32 in [0, 1): one word `w`, `(w >>> 8) / 2^24`.
 * - Uniform float64 in [0, 1): two words `w1, w2`, `((w1 >>> 5) * 2^26 + (w2 >>> 6)) / 2^53`.
 * - Standard normal (Box-Muller), per pair of outputs: `U1, U2` uniform of the output dtype (in that
 *   order), `r = sqrt(-2 ln(1 - U1))`, `t = 2 pi U2`, outputs `r cos t` then `r sin t`. An odd count
 *   drops the last sine (its words are still consumed). Arithmetic is float64 (JavaScript's
 *   Math.log/cos/sin), then rounded to the dtype.
 * - Bounded integer in [0, n), 1 <= n <= 2^32 (randint, randperm): draw a word `w`; reject it and
 *   draw again while `w >= 2^32 - (2^32 mod n)`; return `w mod n`. No modulo bias.
 * - Bernoulli(p): one float64 uniform `u` (two words); the outcome is `u < p`.
 *
 * Every random tensor is generated here on the host, then written to its device (Bernoulli masks:
 * by the backend's philoxBernoulli kernel where it has one, from the same stream position), so the
 * numbers are identical on every backend. A GPU kernel reproducing a function needs the word
 * offset: with a fixed word count per element (rand, randn, bernoulli, truncNormal), element `k`
 * starts at word `offset + k * wordsPerElement`; it then advances the host generator with
 * {@link Generator.skip}.
 * Rejection-based functions (randint, randperm) consume a variable number of words.
 */
import { Tensor } from './autograd/tensor.js';
import { NDArray } from './ndarray/ndarray.js';
import { broadcastShapes, checkShape, prod } from './ndarray/shape.js';
import { isFloating, type DType } from './ndarray/dtype.js';
import { getDefaultDevice, type PhiloxSpec } from './ndarray/backend.js';
import { fmt, rangeError, typeError } from './errors.js';
import { bernoulliInto, philoxInto } from './ndarray/cpu/philox.js';

const TWO32 = 4294967296;

/**
 * One Philox4x32-10 block: ten rounds of
 * `(c0, c1, c2, c3) <- (hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))` with the
 * key bumped by the Weyl constants after each round.
 */
export function philox4x32(ctr: readonly number[], key: readonly number[]): number[] {
  const out = [0, 0, 0, 0];
  philoxInto(ctr[0]! >>> 0, ctr[1]! >>> 0, ctr[2]! >>> 0, ctr[3]! >>> 0, key[0]! >>> 0, key[1]! >>> 0, out);
  return out;
}

const isUint32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < TWO32;

/**
 * A seeded random-number generator (torch.Generator). Pass one as `{ generator }` to any random
 * function, initializer or module constructor; without one the {@link defaultGenerator} is used.
 *
 * @example
 * const g = new nd.Generator(42);
 * const a = nd.randn([3], { generator: g });
 */
export class Generator {
  private key: [number, number] = [0, 0];
  private counter = 0;
  /** The current block and the index of its next unread word (4: none left). */
  private block = new Uint32Array(4);
  private pos = 4;
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
    this.pos = 4;
    return this;
  }

  /**
   * Seeds from a non-deterministic source (crypto.getRandomValues where available) and returns
   * the seed, a 53-bit integer (torch.Generator.seed).
   */
  seed(): number {
    const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
    let s: number;
    if (c?.getRandomValues) {
      const w = c.getRandomValues(new Uint32Array(2));
      s = (w[0]! & 0x1fffff) * TWO32 + w[1]!;
    } else {
      s = Math.floor(Math.random() * 2 ** 21) * TWO32 + Math.floor(Math.random() * TWO32);
    }
    this.manualSeed(s);
    return s;
  }

  /** The seed this generator was last seeded with. */
  initialSeed(): number {
    return this.initial;
  }

  /**
   * State for checkpoints: `[seed, counter, ...buffered words]` where `counter` is the next block
   * index and the buffered words (at most 4, last one next) are the unread rest of block counter-1.
   */
  getState(): number[] {
    const rest: number[] = [];
    for (let i = 3; i >= this.pos; i--) rest.push(this.block[i]!);
    return [this.initial, this.counter, ...rest];
  }

  /** Restores a state from {@link getState}. */
  setState(state: readonly number[]): this {
    const ok =
      Array.isArray(state) && state.length >= 2 && state.length <= 6 &&
      Number.isInteger(state[0]) && state[0]! >= 0 &&
      Number.isInteger(state[1]) && state[1]! >= 0 &&
      state.slice(2).every(isUint32);
    if (!ok) throw rangeError('Generator.setState', 'a state from getState() ([seed, counter, ...up to 4 words])', fmt(state));
    this.manualSeed(state[0]!);
    this.counter = state[1]!;
    const rest = state.slice(2);
    this.pos = 4 - rest.length;
    for (let k = 0; k < rest.length; k++) this.block[this.pos + k] = rest[rest.length - 1 - k]!;
    return this;
  }

  /** An independent generator at the same position of the same stream. */
  clone(): Generator {
    return new Generator(this.initial).setState(this.getState());
  }

  /** Words consumed since seeding (the stream position). */
  wordOffset(): number {
    return this.counter * 4 - (4 - this.pos);
  }

  /** Advances the stream by `n` words, exactly as `n` calls of {@link nextUint32} would. */
  skip(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw rangeError('Generator.skip', 'a non-negative integer word count', String(n));
    const fromBlock = Math.min(n, 4 - this.pos);
    this.pos += fromBlock;
    n -= fromBlock;
    this.counter += Math.floor(n / 4);
    for (let r = n % 4; r > 0; r--) this.nextUint32();
    return this;
  }

  /** Next uniformly distributed 32-bit word. */
  nextUint32(): number {
    if (this.pos === 4) {
      const c = this.counter++;
      philoxInto(c >>> 0, Math.floor(c / 4294967296) >>> 0, 0, 0, this.key[0], this.key[1], this.block);
      this.pos = 0;
    }
    return this.block[this.pos++]!;
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

  /**
   * Unbiased integer in [0, n) for an integer 1 <= n <= 2^32: words `w >= 2^32 - (2^32 mod n)`
   * are rejected, the first accepted gives `w mod n`.
   */
  nextBelow(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) throw rangeError('Generator.nextBelow', 'an integer bound in [1, 2^32]', String(n));
    const limit = TWO32 - (TWO32 % n);
    let w = this.nextUint32();
    while (w >= limit) w = this.nextUint32();
    return w % n;
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

/** Seeds the default generator non-deterministically and returns the seed (torch.seed). */
export function seed(): number {
  return defaultGenerator.seed();
}

/** The seed of the default generator (torch.initial_seed). */
export function initialSeed(): number {
  return defaultGenerator.initialSeed();
}

/** The default generator's state (torch.get_rng_state); see {@link Generator.getState}. */
export function getRngState(): number[] {
  return defaultGenerator.getState();
}

/** Restores the default generator's state (torch.set_rng_state). */
export function setRngState(state: readonly number[]): void {
  defaultGenerator.setState(state);
}

/** Options of the random constructors. */
export interface RandomOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
  generator?: Generator;
}

/** Options of the in-place random fills. */
export interface FillOptions {
  generator?: Generator;
}

function make(shape: readonly number[], opts: RandomOptions, fill: (g: Generator, n: number, dtype: DType) => ArrayLike<number>, op: string): Tensor {
  const s = checkShape(op, shape);
  const dtype = opts.dtype ?? 'float32';
  const g = opts.generator ?? defaultGenerator;
  const data = fill(g, prod(s), dtype);
  return new Tensor(NDArray.fromData(data, s, dtype, opts.device ?? getDefaultDevice()), { requiresGrad: opts.requiresGrad ?? false });
}

/** Replaces `t.array` with `data` (same shape, dtype, device; the tensor's identity is kept). */
function fillTensor(t: Tensor, data: ArrayLike<number>): Tensor {
  t.array = NDArray.fromData(data, t.shape, t.dtype, t.device);
  return t;
}

function checkFloatTensor(op: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) throw typeError(op, 'a Tensor', fmt(t));
  if (!isFloating(t.dtype)) throw typeError(op, 'a floating-point tensor', t.dtype);
  return t;
}

function uniforms(g: Generator, n: number, dtype: DType, low: number, high: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = low + (high - low) * g.nextUniform(dtype);
  return out;
}

function normals(g: Generator, n: number, dtype: DType): Float64Array {
  const out = new Float64Array(n);
  g.fillNormal(out, dtype);
  return out;
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
  return scaledBernoulliMask(shape, p, 1, opts);
}

/**
 * A Bernoulli(p) mask holding `value` (rounded to `dtype`) or 0: the draws of
 * {@link bernoulliMask}, made on the device by the backend's Philox kernel where it has one
 * (Backend.philoxBernoulli), so no host array is written. Dropout's scaled mask.
 */
export function scaledBernoulliMask(shape: readonly number[], p: number, value: number, opts: RandomOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw rangeError('bernoulli', 'a probability in [0, 1]', String(p));
  const s = checkShape('bernoulli', shape);
  const g = opts.generator ?? defaultGenerator;
  const out = NDArray.empty(s, opts.dtype ?? 'float32', opts.device ?? getDefaultDevice());
  const n = out.size;
  // the stream position, as a kernel reproducing the draws reads it (see the module comment)
  const seed = g.initialSeed();
  const o = g.wordOffset();
  const spec: PhiloxSpec = { key0: seed >>> 0, key1: Math.floor(seed / TWO32) >>> 0, counter: Math.floor(o / 4), phase: o % 4 };
  const be = out.backend;
  if (n > 0) {
    if (be.philoxBernoulli) {
      be.philoxBernoulli(out, n, spec, p, value);
    } else {
      const host = new Float64Array(n);
      bernoulliInto(host, 0, n, spec.key0, spec.key1, spec.counter, spec.phase, p, value);
      be.write(out.storage, 0, host);
    }
  }
  g.skip(2 * n);
  return new Tensor(out, { requiresGrad: opts.requiresGrad ?? false });
}

/** Uniform on [low, high) (the building block of initializers). */
export function uniformTensor(shape: readonly number[], low: number, high: number, opts: RandomOptions = {}): Tensor {
  return make(shape, opts, (g, n, d) => Float64Array.from({ length: n }, () => low + (high - low) * g.nextUniform(d)), 'uniform');
}

/**
 * Random integers uniform on [low, high) (torch.randint), int32 by default. `randint(high, shape)`
 * uses low = 0. Each value is `low + nextBelow(high - low)` (rejection sampling, unbiased).
 *
 * @example
 * nd.randint(0, 10, [2, 3]); // int32 values in 0..9
 */
export function randint(high: number, shape: readonly number[], opts?: RandomOptions): Tensor;
export function randint(low: number, high: number, shape: readonly number[], opts?: RandomOptions): Tensor;
export function randint(
  a: number,
  b: number | readonly number[],
  c?: readonly number[] | RandomOptions,
  d?: RandomOptions,
): Tensor {
  let low: number, high: number, shape: unknown, opts: RandomOptions;
  if (typeof b === 'number') {
    [low, high, shape, opts] = [a, b, c, d ?? {}];
  } else {
    [low, high, shape, opts] = [0, a, b, (c as RandomOptions | undefined) ?? {}];
  }
  if (!Number.isInteger(low) || !Number.isInteger(high)) {
    throw rangeError('randint', 'integer bounds', `low=${low}, high=${high}`);
  }
  if (!(high > low)) throw rangeError('randint', 'high greater than low', `low=${low}, high=${high}`);
  const dtype = opts.dtype ?? 'int32';
  if (dtype === 'int32' && (low < -(2 ** 31) || high > 2 ** 31)) {
    throw rangeError('randint', 'bounds within the int32 range [-2^31, 2^31]', `low=${low}, high=${high}`);
  }
  if (high - low > TWO32) throw rangeError('randint', 'high - low at most 2^32', String(high - low));
  const s = checkShape('randint', shape);
  const span = high - low;
  return make(s, { ...opts, dtype }, (g, n) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = low + g.nextBelow(span);
    return out;
  }, 'randint');
}

/**
 * A random permutation of 0..n-1 (torch.randperm), int32 by default. Fisher-Yates: start from
 * the identity, then for i = n-1 down to 1 swap a[i] with a[nextBelow(i + 1)].
 */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 31) throw rangeError('randperm', 'n a non-negative integer (at most 2^31)', String(n));
  return make([n], { ...opts, dtype: opts.dtype ?? 'int32' }, (g) => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = g.nextBelow(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }, 'randperm');
}

/**
 * Draws 0/1 per element with the probabilities in `probs` (torch.bernoulli): element k is 1 when
 * a float64 uniform (two words) is below probs[k]. The result has the dtype of `probs` when it is
 * floating (else float32; `{ dtype: 'bool' }` for masks) and its device. For one scalar
 * probability use `nd.bernoulli(nd.full(shape, p))`.
 */
export function bernoulli(probs: Tensor, opts: RandomOptions = {}): Tensor {
  if (!(probs instanceof Tensor)) throw typeError('bernoulli', 'a Tensor of probabilities', fmt(probs));
  const p = probs.dataSync();
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    if (!(v >= 0 && v <= 1)) throw rangeError('bernoulli', 'probabilities in [0, 1]', String(v));
  }
  const dtype = opts.dtype ?? (isFloating(probs.dtype) ? probs.dtype : 'float32');
  return make(probs.shape, { ...opts, dtype, device: opts.device ?? probs.device }, (g, n) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = g.nextUniform('float64') < p[i]! ? 1 : 0;
    return out;
  }, 'bernoulli');
}

function checkStd(op: string, v: number): void {
  if (!(v >= 0) || v === Infinity) throw rangeError(op, 'std a finite number >= 0', String(v));
}

/**
 * Normal samples (torch.normal): `normal(mean, std, shape)` with numbers, or
 * `normal(mean, std)` where either is a Tensor (the result has their broadcast shape). Element k is
 * `mean[k] + std[k] * z[k]` with `z` the standard normals of {@link randn} for the output shape.
 */
export function normal(mean: number, std: number, shape: readonly number[], opts?: RandomOptions): Tensor;
export function normal(mean: Tensor | number, std: Tensor | number, opts?: RandomOptions): Tensor;
export function normal(
  mean: Tensor | number,
  std: Tensor | number,
  c?: readonly number[] | RandomOptions,
  d?: RandomOptions,
): Tensor {
  const withShape = Array.isArray(c);
  const opts: RandomOptions = (withShape ? d : (c as RandomOptions | undefined)) ?? {};
  const tensors = [mean, std].filter((v): v is Tensor => v instanceof Tensor);
  for (const v of [mean, std]) {
    if (!(v instanceof Tensor) && typeof v !== 'number') throw typeError('normal', 'mean and std numbers or Tensors', fmt(v));
  }
  if (withShape && tensors.length > 0) throw typeError('normal', 'numbers for mean and std when a shape is given', fmt(tensors[0]));
  if (!withShape && tensors.length === 0) throw typeError('normal', 'a shape when mean and std are numbers', 'none');
  const shape = withShape
    ? checkShape('normal', c)
    : broadcastShapes('normal', ...tensors.map((t) => t.shape));
  const values = (v: Tensor | number): ArrayLike<number> | number =>
    v instanceof Tensor ? v.array.broadcastTo(shape).dataSync() : v;
  const m = values(mean);
  const s = values(std);
  if (typeof s === 'number') checkStd('normal', s);
  else for (let i = 0; i < s.length; i++) checkStd('normal', s[i]!);
  const dtype = opts.dtype ?? (tensors.some((t) => t.dtype === 'float64') ? 'float64' : 'float32');
  if (!isFloating(dtype)) throw typeError('normal', 'a floating-point dtype', dtype);
  const device = opts.device ?? tensors[0]?.device;
  return make(shape, { ...opts, dtype, device }, (g, n, dt) => {
    const z = normals(g, n, dt);
    for (let i = 0; i < n; i++) {
      const mi = typeof m === 'number' ? m : m[i]!;
      const si = typeof s === 'number' ? s : s[i]!;
      z[i] = mi + si * z[i]!;
    }
    return z;
  }, 'normal');
}

/**
 * Fills `t` in place with N(mean, std^2) (torch.Tensor.normal_): `mean + std * z`, `z` as in
 * {@link randn} for t's dtype. Returns `t`. The fill is a data write, not recorded by autograd.
 */
export function normal_(t: Tensor, mean = 0, std = 1, opts: FillOptions = {}): Tensor {
  checkFloatTensor('normal_', t);
  if (!Number.isFinite(mean)) throw rangeError('normal_', 'a finite mean', String(mean));
  checkStd('normal_', std);
  const z = normals(opts.generator ?? defaultGenerator, t.size, t.dtype);
  for (let i = 0; i < z.length; i++) z[i] = mean + std * z[i]!;
  return fillTensor(t, z);
}

/**
 * Fills `t` in place with U(a, b) (torch.Tensor.uniform_): `a + (b - a) * u`, `u` as in
 * {@link rand} for t's dtype. Returns `t`. As in PyTorch, rounding to float32 can give `b`.
 */
export function uniform_(t: Tensor, a = 0, b = 1, opts: FillOptions = {}): Tensor {
  checkFloatTensor('uniform_', t);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a > b) {
    throw rangeError('uniform_', 'finite bounds with a <= b', `a=${a}, b=${b}`);
  }
  return fillTensor(t, uniforms(opts.generator ?? defaultGenerator, t.size, t.dtype, a, b));
}

// ---------------------------------------------------------------------------------------------
// The truncated normal: exact inverse-CDF sampling in log space.

const INV_SQRTPI = 1 / Math.sqrt(Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
/** 1/3, 1/5, 1/7, ... (the series below needs at most ~45 terms for y < 2). */
const INV_ODD = Float64Array.from({ length: 64 }, (_, n) => 1 / (2 * n + 3));

/**
 * The scaled complementary error function `exp(y^2) erfc(y)` in float64 (relative error below
 * 1e-13): a positive series of erf for |y| < 2, Laplace's continued fraction beyond.
 */
export function erfcx(y: number): number {
  if (Number.isNaN(y)) return NaN;
  if (y < 0) return 2 * Math.exp(y * y) - erfcx(-y);
  if (y < 2) {
    // erf(y) = 2y/sqrt(pi) exp(-y^2) sum_n (2y^2)^n / (1*3*...*(2n+1))
    const y2 = 2 * y * y;
    let term = 1, sum = 1;
    for (let n = 0; term > 1e-17 * sum; n++) {
      term *= y2 * INV_ODD[n]!;
      sum += term;
    }
    return Math.exp(y * y) - 2 * y * sum * INV_SQRTPI;
  }
  if (y === Infinity) return 0;
  // erfc(y) = exp(-y^2)/sqrt(pi) / (y + (1/2)/(y + 1/(y + (3/2)/(y + ...)))), evaluated backwards
  let t = y;
  for (let n = Math.ceil(8 + 200 / (y * y)); n >= 1; n--) t = y + n / 2 / t;
  return INV_SQRTPI / t;
}

/** log Phi(x), the log of the standard normal CDF, accurate in both tails. */
export function normalLogCdf(x: number): number {
  if (x <= 0) {
    const y = -x * Math.SQRT1_2;
    return Math.log(0.5 * erfcx(y)) - y * y;
  }
  const y = x * Math.SQRT1_2;
  return Math.log1p(-0.5 * erfcx(y) * Math.exp(-y * y));
}

/** phi(x) / Phi(x) (the inverse Mills ratio), overflow-free in the lower tail. */
function hazard(x: number): number {
  if (x <= 0) return SQRT_2_OVER_PI / erfcx(-x * Math.SQRT1_2);
  return (INV_SQRT_2PI * Math.exp(-0.5 * x * x)) / Math.exp(normalLogCdf(x));
}

/**
 * The standard normal quantile from a log probability: x with log Phi(x) = logp, for
 * logp <= log(1/2) (so x <= 0; larger logp use the symmetry Phi^-1(p) = -Phi^-1(1 - p)).
 * Start: Hastings' rational approximation (Abramowitz-Stegun 26.2.23, error < 4.5e-4) with
 * t = sqrt(-2 logp); then two Halley steps on g(x) = log Phi(x) - logp (g' = h, g'' = -h(x+h),
 * h = phi/Phi), which leave a relative error below 1e-13.
 */
export function normalIcdfLog(logp: number): number {
  if (Number.isNaN(logp) || logp > 0) return NaN;
  if (logp === -Infinity) return -Infinity;
  if (logp > -Math.LN2) return -normalIcdfLog(Math.log1p(-Math.exp(logp)));
  const t = Math.sqrt(-2 * logp);
  let x = -(t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
  for (let i = 0; i < 2; i++) {
    let g: number, h: number;
    if (x <= 0) {
      // one erfcx gives both: Phi(x) = erfcx(y) exp(-y^2) / 2 and h = sqrt(2/pi) / erfcx(y), y = -x/sqrt(2)
      const y = -x * Math.SQRT1_2;
      const e = erfcx(y);
      g = Math.log(0.5 * e) - y * y - logp;
      h = SQRT_2_OVER_PI / e;
    } else {
      g = normalLogCdf(x) - logp;
      h = hazard(x);
    }
    x -= g / (h + 0.5 * g * (x + h));
  }
  return x;
}

const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);

/** The float32 next to `x` (a float32 value) toward +inf (dir 1) or -inf (dir -1). */
function nextFloat32(x: number, dir: 1 | -1): number {
  if (!Number.isFinite(x)) return x;
  if (x === 0) return dir * 2 ** -149;
  f32[0] = x;
  f32Bits[0] = f32Bits[0]! + ((x > 0) === (dir > 0) ? 1 : -1);
  return f32[0]!;
}

/** The representable range of [a, b] in `dtype`: smallest value >= a, largest <= b. */
function innerBounds(a: number, b: number, dtype: DType): [number, number] {
  if (dtype !== 'float32') return [a, b];
  let lo = Math.fround(a), hi = Math.fround(b);
  if (lo < a) lo = nextFloat32(lo, 1);
  if (hi > b) hi = nextFloat32(hi, -1);
  return [lo, hi];
}

function checkTrunc(op: string, mean: number, std: number, a: number, b: number): void {
  if (!Number.isFinite(mean)) throw rangeError(op, 'a finite mean', String(mean));
  if (!(std > 0) || std === Infinity) throw rangeError(op, 'std a positive finite number', String(std));
  if (!(a < b)) throw rangeError(op, 'a < b', `a=${a}, b=${b}`);
}

/**
 * Samples N(mean, std^2) truncated to [a, b] exactly, by inverting the CDF in log space. With
 * alpha = (a-mean)/std, beta = (b-mean)/std: when alpha + beta > 0 the problem is mirrored
 * (sample on [-beta, -alpha], negate), so alpha < 0 and |alpha| >= |beta|. Per element one float64
 * uniform u (two words), moved into (0, 1) as u + 2^-54, then:
 * - beta <= 0 (a lower tail): x = Phi^-1 with log Phi(x) = log Phi(beta) + log(r + u (1 - r)),
 *   r = Phi(alpha)/Phi(beta);
 * - alpha < 0 < beta: p = Phi(alpha) + u (Phi(beta) - Phi(alpha)); x = Phi^-1(p) for p < 1/2,
 *   else x = -Phi^-1(Q(beta) + (1 - u)(Phi(beta) - Phi(alpha))), Q(beta) = Phi(-beta);
 * and the value is mean + std * x (negated x when mirrored), clamped to [a, b] (to the float32
 * values inside [a, b] for float32).
 */
function truncNormalValues(op: string, g: Generator, n: number, dtype: DType, mean: number, std: number, a: number, b: number): Float64Array {
  const [lo, hi] = innerBounds(a, b, dtype);
  if (lo > hi) throw rangeError(op, `an interval [a, b] that holds a ${dtype} value`, `a=${a}, b=${b}`);
  let al = (a - mean) / std, be = (b - mean) / std;
  const flip = al + be > 0;
  if (flip) [al, be] = [-be, -al];
  const sign = flip ? -1 : 1;
  const out = new Float64Array(n);
  const HALF_ULP = 2 ** -54;
  if (be <= 0) {
    const lb = normalLogCdf(be);
    const la = normalLogCdf(al);
    const r = Math.exp(la - lb);
    const oneMinusR = -Math.expm1(la - lb);
    for (let i = 0; i < n; i++) {
      const u = g.nextUniform('float64') + HALF_ULP;
      const x = normalIcdfLog(lb + Math.log(r + u * oneMinusR));
      out[i] = Math.min(hi, Math.max(lo, mean + std * sign * x));
    }
  } else {
    const pa = Math.exp(normalLogCdf(al));
    const qb = Math.exp(normalLogCdf(-be));
    const mass = 1 - pa - qb;
    for (let i = 0; i < n; i++) {
      const u = g.nextUniform('float64') + HALF_ULP;
      const p = pa + u * mass;
      const x = p < 0.5 ? normalIcdfLog(Math.log(p)) : -normalIcdfLog(Math.log(qb + (1 - u) * mass));
      out[i] = Math.min(hi, Math.max(lo, mean + std * sign * x));
    }
  }
  return out;
}

/**
 * N(mean, std^2) truncated to [a, b] (defaults: 0, 1, -2, 2), sampled exactly (see
 * {@link truncNormal_} for the algorithm). Every value lies in [a, b].
 */
export function truncNormal(shape: readonly number[], mean = 0, std = 1, a = -2, b = 2, opts: RandomOptions = {}): Tensor {
  checkTrunc('truncNormal', mean, std, a, b);
  if (opts.dtype !== undefined && !isFloating(opts.dtype)) throw typeError('truncNormal', 'a floating-point dtype', opts.dtype);
  return make(shape, opts, (g, n, d) => truncNormalValues('truncNormal', g, n, d, mean, std, a, b), 'truncNormal');
}

/**
 * Fills `t` in place with N(mean, std^2) truncated to [a, b] (torch.nn.init.trunc_normal_),
 * exactly, by the inverse CDF in log space: with alpha = (a-mean)/std, beta = (b-mean)/std,
 * mirrored when alpha + beta > 0 so the lower tail is used, one float64 uniform u per element
 * (plus 2^-54, in (0, 1)) is mapped to Phi^-1(Phi(alpha) + u (Phi(beta) - Phi(alpha))), computed
 * with log Phi and two Halley steps, so far tails (e.g. [5, 6] std) stay exact where
 * PyTorch's erfinv form loses precision. Values are clamped to [a, b] against rounding.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, opts: FillOptions = {}): Tensor {
  checkFloatTensor('truncNormal_', t);
  checkTrunc('truncNormal_', mean, std, a, b);
  return fillTensor(t, truncNormalValues('truncNormal_', opts.generator ?? defaultGenerator, t.size, t.dtype, mean, std, a, b));
}
