/**
 * Seeded randomness: the documented stream (re-derived here from philox4x32 alone), reproducibility,
 * generator state, and the distributions (randint, randperm, bernoulli, normal, uniform_, normal_).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import * as random from '../src/random.js';
import { philox4x32, Generator } from '../src/random.js';
import { assertThrows, flat } from './helpers.js';

/** The word stream of a seed, written from the documentation (docs/random.md), not from Generator. */
function docWords(seed: number, count: number): number[] {
  const key = [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
  const out: number[] = [];
  for (let b = 0; out.length < count; b++) out.push(...philox4x32([b % 2 ** 32, Math.floor(b / 2 ** 32), 0, 0], key));
  return out.slice(0, count);
}

function moments(v: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
  }
  const mean = s / v.length;
  let s2 = 0;
  for (let i = 0; i < v.length; i++) s2 += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(s2 / (v.length - 1)), min, max };
}

/** Pearson's chi-square statistic of counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
}

describe('the documented stream', () => {
  test('words: block b = philox(ctr=[b lo, b hi, 0, 0], key=[seed lo, seed hi]), words in order', () => {
    for (const seed of [0, 1, 123456789, 2 ** 40 + 17]) {
      const g = new Generator(seed);
      const got = Array.from({ length: 11 }, () => g.nextUint32());
      assert.deepEqual(got, docWords(seed, 11), `seed ${seed}`);
    }
    // seed 0, block 0 is the Random123 zero vector
    assert.equal(new Generator(0).nextUint32(), 0x6627e8d5);
  });

  test('float32 uniforms are (w >>> 8) / 2^24; float64 ((w1 >>> 5) 2^26 + (w2 >>> 6)) / 2^53', () => {
    const w = docWords(5, 12);
    const r32 = flat(nd.rand([6], { generator: new Generator(5) }));
    assert.deepEqual(r32, w.slice(0, 6).map((x) => Math.fround((x >>> 8) / 2 ** 24)));
    const r64 = flat(nd.rand([6], { generator: new Generator(5), dtype: 'float64' }));
    const e64 = [0, 1, 2, 3, 4, 5].map((i) => ((w[2 * i]! >>> 5) * 2 ** 26 + (w[2 * i + 1]! >>> 6)) / 2 ** 53);
    assert.deepEqual(r64, e64);
  });

  test('Box-Muller: pairs (r cos t, r sin t), r = sqrt(-2 ln(1 - U1)), t = 2 pi U2; odd n drops a sine', () => {
    const w = docWords(9, 8).map((x) => (x >>> 8) / 2 ** 24);
    const expect: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = Math.sqrt(-2 * Math.log(1 - w[2 * i]!));
      const t = 2 * Math.PI * w[2 * i + 1]!;
      expect.push(r * Math.cos(t), r * Math.sin(t));
    }
    const g = new Generator(9);
    const z = flat(nd.randn([5], { generator: g }));
    assert.deepEqual(z, expect.slice(0, 5).map(Math.fround));
    assert.equal(g.wordOffset(), 6, 'five float32 normals use three pairs = six words');
  });

  test('randint: reject w >= 2^32 - (2^32 mod n), then low + w mod n', () => {
    const n = 3 * 2 ** 30; // a quarter of all words is rejected
    const limit = 2 ** 32 - (2 ** 32 % n);
    const words = docWords(21, 200);
    const expect: number[] = [];
    let k = 0;
    let rejected = 0;
    while (expect.length < 50) {
      const w = words[k++]!;
      if (w >= limit) rejected++;
      else expect.push(-(2 ** 31) + (w % n));
    }
    assert.ok(rejected > 0, 'the case exercises rejection');
    const g = new Generator(21);
    assert.deepEqual(flat(nd.randint(-(2 ** 31), -(2 ** 31) + n, [50], { generator: g })), expect);
    assert.equal(g.wordOffset(), k);
  });

  test('randperm: Fisher-Yates from the identity, i = n-1 .. 1 swaps with nextBelow(i + 1)', () => {
    const words = docWords(4, 64);
    let k = 0;
    const below = (m: number) => {
      const limit = 2 ** 32 - (2 ** 32 % m);
      for (;;) {
        const w = words[k++]!;
        if (w < limit) return w % m;
      }
    };
    const a = Array.from({ length: 10 }, (_, i) => i);
    for (let i = 9; i > 0; i--) {
      const j = below(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    assert.deepEqual(flat(nd.randperm(10, { generator: new Generator(4) })), a);
  });

  test('bernoulli: one float64 uniform per element, success when u < p', () => {
    const w = docWords(8, 16);
    const probs = [0.1, 0.5, 0.9, 0.3, 0.7, 0.5, 0, 1];
    const expect = probs.map((p, i) => (((w[2 * i]! >>> 5) * 2 ** 26 + (w[2 * i + 1]! >>> 6)) / 2 ** 53 < p ? 1 : 0));
    assert.deepEqual(flat(nd.bernoulli(nd.tensor(probs), { generator: new Generator(8) })), expect);
  });

  test('wordOffset counts words; skip(n) equals n draws', () => {
    const g = new Generator(3);
    nd.rand([3], { generator: g, dtype: 'float64' });
    assert.equal(g.wordOffset(), 6);
    for (let n = 0; n < 11; n++) {
      const a = new Generator(77);
      a.nextUint32();
      const b = a.clone();
      for (let i = 0; i < n; i++) a.nextUint32();
      b.skip(n);
      assert.equal(b.wordOffset(), a.wordOffset());
      assert.equal(b.nextUint32(), a.nextUint32(), `skip(${n})`);
    }
    assertThrows(() => g.skip(-1), RangeError, /^Generator\.skip: a non-negative integer word count, got -1$/);
  });
});

describe('reproducibility', () => {
  const draws = (o: { generator?: Generator }) => [
    flat(nd.rand([7], o)),
    flat(nd.randn([7], o)),
    flat(nd.randint(-3, 9, [7], o)),
    flat(nd.randperm(7, o)),
    flat(nd.bernoulli(nd.full([7], 0.5), o)),
    flat(nd.normal(2, 3, [7], o)),
    flat(nd.uniform_(nd.zeros([7]), -1, 1, o)),
    flat(nd.normal_(nd.zeros([7]), 1, 2, o)),
    flat(nd.truncNormal([7], 0, 1, -1, 1, o)),
  ];

  test('manualSeed restarts the default stream', () => {
    nd.manualSeed(1234);
    const a = draws({});
    nd.manualSeed(1234);
    assert.deepEqual(draws({}), a);
    assert.equal(nd.initialSeed(), 1234);
    nd.manualSeed(1235);
    assert.notDeepEqual(draws({}), a);
  });

  test('separate Generators are independent of each other and of the default', () => {
    nd.manualSeed(5);
    const ref = flat(nd.rand([4]));
    const g1 = new nd.Generator(42);
    const g2 = new nd.Generator(42);
    nd.manualSeed(5);
    const a = draws({ generator: g1 });
    const b = draws({ generator: g2 });
    assert.deepEqual(a, b);
    // the default generator did not move
    assert.deepEqual(flat(nd.rand([4])), ref);
    assert.notDeepEqual(draws({ generator: new nd.Generator(43) }), a);
  });

  test('large seeds use both key words', () => {
    const a = flat(nd.rand([4], { generator: new Generator(2 ** 32 + 1) }));
    const b = flat(nd.rand([4], { generator: new Generator(1) }));
    assert.notDeepEqual(a, b);
  });

  test('seed() seeds non-deterministically and reports the seed', () => {
    const g = new Generator();
    const s = g.seed();
    assert.ok(Number.isSafeInteger(s) && s >= 0);
    assert.equal(g.initialSeed(), s);
    assert.deepEqual(flat(nd.rand([3], { generator: g })), flat(nd.rand([3], { generator: new Generator(s) })));
    const s2 = nd.seed();
    assert.equal(nd.initialSeed(), s2);
    nd.manualSeed(0);
  });
});

describe('generator state', () => {
  test('getState/setState round-trips mid-block', () => {
    const g = new Generator(11);
    g.nextUint32(); // leaves three buffered words
    const state = g.getState();
    assert.equal(state.length, 5);
    const x = flat(nd.randn([9], { generator: g }));
    g.setState(state);
    assert.deepEqual(flat(nd.randn([9], { generator: g })), x);
    // a fresh generator restored from the state continues identically
    const h = new Generator().setState(state);
    assert.deepEqual(flat(nd.randn([9], { generator: h })), x);
  });

  test('clone() forks the stream; getRngState/setRngState act on the default generator', () => {
    const g = new Generator(2);
    nd.rand([3], { generator: g });
    const c = g.clone();
    assert.deepEqual(flat(nd.randint(0, 100, [10], { generator: c })), flat(nd.randint(0, 100, [10], { generator: g })));
    nd.manualSeed(17);
    nd.rand([5]);
    const st = nd.getRngState();
    const a = flat(nd.randperm(20));
    nd.setRngState(st);
    assert.deepEqual(flat(nd.randperm(20)), a);
  });

  test('bad states are rejected', () => {
    const g = new Generator(1);
    assertThrows(() => g.setState([1]), RangeError, /^Generator\.setState: a state from getState\(\) \(\[seed, counter, \.\.\.up to 4 words\]\), got \[1\]$/);
    assertThrows(() => g.setState([1, 0, -5]), RangeError, /^Generator\.setState: /);
    assertThrows(() => g.setState([1, 0.5]), RangeError, /^Generator\.setState: /);
    assertThrows(() => g.setState([1, 0, 1, 2, 3, 4, 5]), RangeError, /^Generator\.setState: /);
  });
});

describe('randint', () => {
  test('range, dtype, shape and the randint(high, shape) form', () => {
    const g = new Generator(3);
    const x = nd.randint(-5, 7, [40, 50], { generator: g });
    assert.equal(x.dtype, 'int32');
    assert.deepEqual([...x.shape], [40, 50]);
    const m = moments(x.dataSync());
    assert.equal(m.min, -5);
    assert.equal(m.max, 6);
    const y = nd.randint(3, [1000], { generator: g });
    assert.deepEqual([...new Set(flat(y))].sort(), [0, 1, 2]);
    const f = nd.randint(0, 10, [5], { generator: g, dtype: 'float64' });
    assert.equal(f.dtype, 'float64');
    assert.ok(flat(f).every((v) => Number.isInteger(v) && v >= 0 && v < 10));
    assert.deepEqual(flat(nd.randint(4, 5, [3])), [4, 4, 4]);
    assert.deepEqual([...nd.randint(0, 2, [0, 3]).shape], [0, 3]);
  });

  test('the full int32 range works (n = 2^32 never rejects)', () => {
    const g = new Generator(6);
    const x = flat(nd.randint(-(2 ** 31), 2 ** 31, [1000], { generator: g }));
    assert.equal(g.wordOffset(), 1000);
    assert.ok(x.every((v) => v >= -(2 ** 31) && v < 2 ** 31));
    assert.ok(x.some((v) => v < 0) && x.some((v) => v > 0));
  });

  test('uniform over the range (chi-square, 9 degrees of freedom)', () => {
    const x = nd.randint(0, 10, [100000], { generator: new Generator(7) }).dataSync();
    const counts = new Array<number>(10).fill(0);
    for (const v of x) counts[v]!++;
    // the 0.999 quantile of chi-square(9) is 27.9
    assert.ok(chiSquare(counts) < 27.9, `chi2 ${chiSquare(counts)} counts ${counts}`);
    // a range that does not divide 2^32 (n = 3 * 2^30) has no modulo bias: each third equally often
    const y = nd.randint(0, 3 * 2 ** 30, [30000], { generator: new Generator(8), dtype: 'float64' }).dataSync();
    const thirds = [0, 0, 0];
    for (const v of y) thirds[Math.floor(v / 2 ** 30)]!++;
    assert.ok(chiSquare(thirds) < 13.8, `thirds ${thirds}`); // 0.999 quantile of chi-square(2)
  });

  test('errors', () => {
    assertThrows(() => nd.randint(5, 5, [2]), RangeError, /^randint: high greater than low, got low=5, high=5$/);
    assertThrows(() => nd.randint(6, 5, [2]), RangeError, /^randint: high greater than low, got low=6, high=5$/);
    assertThrows(() => nd.randint(0, [2]), RangeError, /^randint: high greater than low, got low=0, high=0$/);
    assertThrows(() => nd.randint(0.5, 3, [2]), RangeError, /^randint: integer bounds, got low=0.5, high=3$/);
    assertThrows(() => nd.randint(0, 2 ** 31 + 1, [2]), RangeError, /^randint: bounds within the int32 range/);
    assertThrows(() => nd.randint(0, 2 ** 33, [2], { dtype: 'float64' }), RangeError, /^randint: high - low at most 2\^32, got 8589934592$/);
    assertThrows(() => nd.randint(0, 3, [-1]), RangeError, /^randint: shape must contain non-negative integers/);
    // a failed call consumes no randomness
    const g = new Generator(1);
    assert.throws(() => nd.randint(3, 3, [4], { generator: g }));
    assert.equal(g.wordOffset(), 0);
  });
});

describe('randperm', () => {
  test('is a permutation', () => {
    for (const n of [0, 1, 2, 17, 1000]) {
      const p = nd.randperm(n, { generator: new Generator(n) });
      assert.equal(p.dtype, 'int32');
      assert.deepEqual(flat(p).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
    }
    assert.equal(nd.randperm(5, { dtype: 'float32' }).dtype, 'float32');
  });

  test('all 6 permutations of 3 equally likely; every position uniform for n = 10', () => {
    const g = new Generator(12);
    const counts = new Map<string, number>();
    for (let i = 0; i < 12000; i++) {
      const k = flat(nd.randperm(3, { generator: g })).join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    assert.ok(chiSquare([...counts.values()]) < 20.5, `${[...counts]}`); // 0.999 quantile, 5 dof
    const first = new Array<number>(10).fill(0);
    for (let i = 0; i < 10000; i++) first[nd.randperm(10, { generator: g }).dataSync()[0]!]!++;
    assert.ok(chiSquare(first) < 27.9, `${first}`);
  });

  test('errors', () => {
    assertThrows(() => nd.randperm(-1), RangeError, /^randperm: n a non-negative integer \(at most 2\^31\), got -1$/);
    assertThrows(() => nd.randperm(2.5), RangeError, /^randperm: n a non-negative integer \(at most 2\^31\), got 2.5$/);
  });
});

describe('bernoulli', () => {
  test('per-element probabilities; dtype follows the input', () => {
    const ps = [0, 0.1, 0.5, 0.9, 1];
    const n = 20000;
    const probs = nd.tensor(Array.from({ length: n }, () => ps), { dtype: 'float64' });
    const x = nd.bernoulli(probs, { generator: new Generator(2) });
    assert.equal(x.dtype, 'float64');
    assert.deepEqual([...x.shape], [n, 5]);
    const v = x.dataSync();
    ps.forEach((p, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += v[i * 5 + j]!;
      const tol = 4 * Math.sqrt((p * (1 - p)) / n) + 1e-12;
      assert.ok(Math.abs(s / n - p) <= tol, `p=${p}: mean ${s / n}`);
    });
    assert.equal(nd.bernoulli(nd.full([3], 0.5), { dtype: 'bool' }).dtype, 'bool');
    assert.equal(nd.bernoulli(nd.full([3], 0.5)).dtype, 'float32');
  });

  test('errors', () => {
    assertThrows(() => nd.bernoulli(nd.tensor([0.5, 1.5])), RangeError, /^bernoulli: probabilities in \[0, 1\], got 1.5$/);
    assertThrows(() => nd.bernoulli(nd.tensor([NaN])), RangeError, /^bernoulli: probabilities in \[0, 1\], got NaN$/);
    assertThrows(() => nd.bernoulli(0.5 as unknown as nd.Tensor), TypeError, /^bernoulli: a Tensor of probabilities, got 0.5$/);
  });
});

describe('normal, normal_ and uniform_', () => {
  test('normal(mean, std, shape) moments', () => {
    const x = nd.normal(3, 2, [100000], { generator: new Generator(4) });
    assert.equal(x.dtype, 'float32');
    const m = moments(x.dataSync());
    assert.ok(Math.abs(m.mean - 3) < 0.03, `mean ${m.mean}`);
    assert.ok(Math.abs(m.std / 2 - 1) < 0.01, `std ${m.std}`);
  });

  test('normal with tensor mean/std broadcasts and equals mean + std * randn', () => {
    const mean = nd.tensor([[-5], [0], [5]], { dtype: 'float64' });
    const std = nd.tensor([0.5, 1, 2, 4]);
    const x = nd.normal(mean, std, { generator: new Generator(6) });
    assert.equal(x.dtype, 'float64');
    assert.deepEqual([...x.shape], [3, 4]);
    const z = flat(nd.randn([3, 4], { generator: new Generator(6), dtype: 'float64' }));
    const m = [-5, 0, 5];
    const s = [0.5, 1, 2, 4];
    const expect = z.map((v, k) => m[Math.floor(k / 4)]! + s[k % 4]! * v);
    assert.deepEqual(flat(x), expect);
    const big = nd.normal(nd.full([50000], 1), 0.5, { generator: new Generator(1) });
    const mm = moments(big.dataSync());
    assert.ok(Math.abs(mm.mean - 1) < 0.01 && Math.abs(mm.std - 0.5) < 0.01, JSON.stringify(mm));
  });

  test('normal_ and uniform_ fill in place, keep identity, shape, dtype, and stay out of autograd', () => {
    const t = nd.zeros([200, 300], { dtype: 'float64' }).requiresGrad_();
    const same = nd.normal_(t, -1, 0.5, { generator: new Generator(3) });
    assert.equal(same, t);
    assert.equal(t.dtype, 'float64');
    assert.deepEqual([...t.shape], [200, 300]);
    assert.ok(t.isLeaf && t.requiresGrad);
    let m = moments(t.dataSync());
    assert.ok(Math.abs(m.mean + 1) < 0.01 && Math.abs(m.std / 0.5 - 1) < 0.01, JSON.stringify(m));
    nd.uniform_(t, -2, 6, { generator: new Generator(3) });
    m = moments(t.dataSync());
    assert.ok(m.min >= -2 && m.max < 6, JSON.stringify(m));
    assert.ok(Math.abs(m.mean - 2) < 0.03, `mean ${m.mean}`);
    assert.ok(Math.abs(m.std / (8 / Math.sqrt(12)) - 1) < 0.01, `std ${m.std}`);
    // same numbers as the constructors
    const u = nd.uniform_(nd.zeros([5]), 0, 1, { generator: new Generator(10) });
    assert.deepEqual(flat(u), flat(nd.rand([5], { generator: new Generator(10) })));
    const z = nd.normal_(nd.zeros([5]), 0, 1, { generator: new Generator(10) });
    assert.deepEqual(flat(z), flat(nd.randn([5], { generator: new Generator(10) })));
  });

  test('truncNormal stays in [a, b], also for float32 bounds that are not float32 values', () => {
    const x = nd.truncNormal([20000], 0, 1, -0.1, 0.3, { generator: new Generator(2) });
    const m = moments(x.dataSync());
    assert.ok(m.min >= -0.1 && m.max <= 0.3, JSON.stringify(m));
    // an interval holding about one float32: float32(-0.1) < -0.1 must not come out
    const a = -0.1, b = -0.1 + 1e-8;
    assert.ok(Math.fround(a) < a);
    const y = nd.truncNormal([1000], 0, 1, a, b, { generator: new Generator(3) }).dataSync();
    for (const v of y) assert.ok(v >= a && v <= b, `${v} outside [${a}, ${b}]`);
  });

  test('errors', () => {
    assertThrows(() => nd.normal(0, -1, [3]), RangeError, /^normal: std a finite number >= 0, got -1$/);
    assertThrows(() => nd.normal(nd.zeros([2]), nd.tensor([1, -1])), RangeError, /^normal: std a finite number >= 0, got -1$/);
    assertThrows(() => nd.normal(nd.zeros([2]), 1, [2] as unknown as nd.RandomOptions), TypeError, /^normal: numbers for mean and std when a shape is given/);
    assertThrows(() => nd.normal(0, 1), TypeError, /^normal: a shape when mean and std are numbers, got none$/);
    assertThrows(() => nd.normal(nd.zeros([2]), nd.ones([3])), RangeError, /^normal: shapes must be broadcastable, got \[2\] and \[3\]$/);
    assertThrows(() => nd.normal_(nd.zeros([2]), 0, -1), RangeError, /^normal_: std a finite number >= 0, got -1$/);
    assertThrows(() => nd.normal_(nd.zeros([2], { dtype: 'int32' })), TypeError, /^normal_: a floating-point tensor, got int32$/);
    assertThrows(() => nd.uniform_(nd.zeros([2]), 1, 0), RangeError, /^uniform_: finite bounds with a <= b, got a=1, b=0$/);
    assertThrows(() => nd.uniform_(nd.zeros([2]), 0, Infinity), RangeError, /^uniform_: finite bounds/);
    assertThrows(() => nd.uniform_(nd.zeros([2], { dtype: 'int32' })), TypeError, /^uniform_: a floating-point tensor, got int32$/);
    assertThrows(() => nd.truncNormal([2], 0, 1, 2, 2), RangeError, /^truncNormal: a < b, got a=2, b=2$/);
    assertThrows(() => nd.truncNormal([2], 0, 0), RangeError, /^truncNormal: std a positive finite number, got 0$/);
    assertThrows(() => nd.truncNormal([2], 0, 1, -1, 1, { dtype: 'int32' }), TypeError, /^truncNormal: a floating-point dtype, got int32$/);
    assertThrows(() => nd.normal(0, 1, [2], { dtype: 'int32' }), TypeError, /^normal: a floating-point dtype, got int32$/);
    assertThrows(() => nd.truncNormal([2], 0, 1, 0.1, 0.1 + 1e-10), RangeError, /^truncNormal: an interval \[a, b\] that holds a float32 value, got a=0.1, b=0.1000000001$/);
    assert.equal(nd.truncNormal([2], 0, 1, 0.1, 0.1 + 1e-10, { dtype: 'float64' }).dtype, 'float64');
    // failed in-place fills leave the tensor as it was
    const t = nd.tensor([1, 2]);
    const before = t.array;
    assert.throws(() => nd.uniform_(t, 3, 1));
    assert.equal(t.array, before);
  });
});

describe('docs/random.md', () => {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'random.md'), 'utf8');

  test('lists every public random function and Generator method', () => {
    const fns = Object.keys(random).filter((k) => k in nd && typeof (nd as Record<string, unknown>)[k] === 'function' && k !== 'Generator');
    const methods = Object.getOwnPropertyNames(Generator.prototype).filter((k) => k !== 'constructor');
    const missing = [...fns, ...methods].filter((n) => !new RegExp(`\\b${n}\\(`).test(doc));
    assert.deepEqual(missing, [], `not in docs/random.md: ${missing.join(', ')}`);
  });

  test('every example runs', () => {
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 1);
    for (const code of blocks) new Function('nd', code)(nd);
    nd.manualSeed(0);
  });
});
