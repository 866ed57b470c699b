/**
 * nn.init against PyTorch 1.13 (test/fixtures/init.json from tools/gen_init_fixtures.py): gains,
 * fans, xavier/kaiming bounds and stds, the exact truncated normal (moments and its special
 * functions against mpmath), the deterministic initializers, and needle's functional forms.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import { erfcx, normalIcdfLog, normalLogCdf } from '../src/random.js';
import type { FanMode, KaimingOptions, Nonlinearity, XavierOptions } from '../src/init.js';
import { assertClose, assertThrows, flat } from './helpers.js';

const init = nd.nn.init;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Fixture {
  gains: { nonlinearity: string; param: number | null; gain: number }[];
  fans: { layer: string; shape: number[]; fanIn: number; fanOut: number }[];
  bounds: { fn: string; shape: number[]; opts: Record<string, unknown>; std: number; bound?: number; torchMaxAbs?: number }[];
  special: {
    erfcx: { y: number; v: number }[];
    logcdf: { x: number; v: number }[];
    icdf: { logp: number; x: number }[];
  };
  trunc: { mean: number; std: number; a: number | null; b: number; tMean: number; tStd: number }[];
}
const FX = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'init.json'), 'utf8')) as Fixture;

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

const g = (seed: number) => ({ generator: new nd.Generator(seed) });

describe('calculateGain', () => {
  test("equals torch.nn.init.calculate_gain", () => {
    for (const c of FX.gains) {
      const got = init.calculateGain(c.nonlinearity as Nonlinearity, c.param ?? undefined);
      assert.equal(got, c.gain, `${c.nonlinearity}(${c.param})`);
    }
  });

  test('camelCase aliases', () => {
    assert.equal(init.calculateGain('leakyRelu', 0.2), init.calculateGain('leaky_relu', 0.2));
    assert.equal(init.calculateGain('convTranspose2d'), 1);
  });

  test('errors', () => {
    assertThrows(
      () => init.calculateGain('swish' as Nonlinearity),
      RangeError,
      /^calculateGain: nonlinearity one of linear, conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, leaky_relu, selu, got "swish"$/,
    );
    assertThrows(() => init.calculateGain('leaky_relu', true as unknown as number), TypeError, /^calculateGain: negative slope a number, got true$/);
    assertThrows(() => init.kaimingUniform_(nd.zeros([2, 2]), { nonlinearity: 'gelu' as Nonlinearity }), RangeError, /^calculateGain: nonlinearity one of /);
  });
});

describe('computeFans', () => {
  test("equals torch's fan-in/fan-out for Linear and Conv weights", () => {
    for (const c of FX.fans) {
      assert.deepEqual(init.computeFans(c.shape), { fanIn: c.fanIn, fanOut: c.fanOut }, c.layer);
      assert.deepEqual(init.computeFans(nd.zeros(c.shape)), { fanIn: c.fanIn, fanOut: c.fanOut }, c.layer);
    }
    const lin = new nd.nn.Linear(20, 30);
    assert.deepEqual(init.computeFans(lin.weight), { fanIn: 20, fanOut: 30 });
  });

  test('fewer than 2 dims is an error naming the initializer', () => {
    assertThrows(() => init.xavierUniform_(nd.zeros([3])), RangeError, /^xavierUniform_: a tensor with at least 2 dims, got \[3\]$/);
    assertThrows(() => init.xavierNormal_(nd.zeros([])), RangeError, /^xavierNormal_: a tensor with at least 2 dims, got \[\]$/);
    assertThrows(() => init.kaimingUniform_(nd.zeros([3])), RangeError, /^kaimingUniform_: a tensor with at least 2 dims, got \[3\]$/);
    assertThrows(() => init.kaimingNormal_(nd.zeros([3])), RangeError, /^kaimingNormal_: a tensor with at least 2 dims, got \[3\]$/);
    assertThrows(() => init.computeFans([5]), RangeError, /^computeFans: a tensor with at least 2 dims, got \[5\]$/);
    assertThrows(() => init.kaimingNormal_(nd.zeros([3, 3]), { mode: 'fanAvg' as FanMode }), RangeError, /^kaimingNormal_: mode 'fanIn' or 'fanOut', got "fanAvg"$/);
  });
});

describe('xavier and kaiming', () => {
  const run = (fn: string, t: nd.Tensor, opts: Record<string, unknown>, seed: number): nd.Tensor => {
    const o = { ...opts, ...g(seed) } as KaimingOptions & XavierOptions;
    if (o.mode !== undefined) o.mode = o.mode as FanMode;
    switch (fn) {
      case 'xavierUniform_': return init.xavierUniform_(t, o);
      case 'xavierNormal_': return init.xavierNormal_(t, o.gain ?? 1, o);
      case 'kaimingUniform_': return init.kaimingUniform_(t, o);
      case 'kaimingNormal_': return init.kaimingNormal_(t, o);
      default: throw new Error(fn);
    }
  };

  test("bounds and stds follow torch's formulas", () => {
    FX.bounds.forEach((c, i) => {
      const t = nd.zeros(c.shape);
      const out = run(c.fn, t, c.opts, 100 + i);
      assert.equal(out, t);
      const m = moments(t.dataSync());
      const what = `${c.fn} ${JSON.stringify(c.shape)} ${JSON.stringify(c.opts)}`;
      assert.ok(Math.abs(m.std / c.std - 1) < 0.02, `${what}: std ${m.std}, torch ${c.std}`);
      assert.ok(Math.abs(m.mean) < (4 * c.std) / Math.sqrt(t.size), `${what}: mean ${m.mean}`);
      if (c.bound !== undefined) {
        const b = Math.fround(c.bound);
        assert.ok(m.max <= b && m.min >= -b, `${what}: [${m.min}, ${m.max}] outside +-${c.bound}`);
        // with 10^4+ samples the extremes come within 0.2% of the bound, as torch's own do
        assert.ok(m.max > c.bound * 0.998 && m.min < -c.bound * 0.998, `${what}: [${m.min}, ${m.max}]`);
        assert.ok(c.torchMaxAbs! <= c.bound);
      }
    });
  });

  test("nn.Linear's default is kaimingUniform_ with a = sqrt(5): bound 1/sqrt(fanIn)", () => {
    const w = nd.zeros([64, 100]);
    init.kaimingUniform_(w, { a: Math.sqrt(5), ...g(1) });
    const m = moments(w.dataSync());
    assert.ok(m.max <= Math.fround(0.1) && m.min >= -Math.fround(0.1) && m.max > 0.099);
  });

  test('fanOut mode, float64 and the generator option', () => {
    const a = init.kaimingNormal_(nd.zeros([8, 400], { dtype: 'float64' }), { mode: 'fan_out', nonlinearity: 'relu', ...g(5) });
    assert.equal(a.dtype, 'float64');
    const m = moments(a.dataSync());
    assert.ok(Math.abs(m.std / (Math.SQRT2 / Math.sqrt(8)) - 1) < 0.03, `std ${m.std}`);
    const b = init.kaimingNormal_(nd.zeros([8, 400], { dtype: 'float64' }), { mode: 'fanOut', nonlinearity: 'relu', ...g(5) });
    assert.deepEqual(flat(a), flat(b));
    assert.deepEqual(flat(init.xavierUniform_(nd.zeros([3, 4]), 2, g(9))), flat(init.xavierUniform_(nd.zeros([3, 4]), { gain: 2, ...g(9) })));
  });

  test('parameters keep identity, requiresGrad and leaf status; no graph is recorded', () => {
    const lin = new nd.nn.Linear(30, 20);
    const w = lin.weight;
    const before = w.array;
    assert.equal(init.xavierNormal_(w), w);
    assert.notEqual(w.array, before);
    assert.equal(lin.weight, w);
    assert.ok(w.requiresGrad && w.isLeaf && w.grad === null);
    assert.deepEqual([...w.shape], [20, 30]);
    init.zeros_(lin.bias!);
    assert.deepEqual(flat(lin.bias!), new Array(20).fill(0));
    const y = lin.forward(nd.ones([2, 30])).sum();
    y.backward();
    assert.deepEqual([...w.grad!.shape], [20, 30]);
  });

  test('zero-element tensors are left alone; integer tensors are rejected', () => {
    const t = nd.zeros([0, 5]);
    assert.equal(init.kaimingUniform_(t), t);
    assert.equal(init.xavierNormal_(t), t);
    assertThrows(() => init.kaimingUniform_(nd.zeros([2, 2], { dtype: 'int32' })), TypeError, /^kaimingUniform_: a floating-point tensor, got int32$/);
    assertThrows(() => init.uniform_(nd.zeros([2, 2], { dtype: 'int32' })), TypeError, /^uniform_: a floating-point tensor, got int32$/);
  });
});

describe('truncNormal_', () => {
  test('special functions match mpmath', () => {
    for (const { y, v } of FX.special.erfcx) assertClose(erfcx(y), v, { atol: 0, rtol: 1e-12, msg: `erfcx(${y})` });
    for (const { x, v } of FX.special.logcdf) assertClose(normalLogCdf(x), v, { atol: 1e-16, rtol: 1e-13, msg: `logPhi(${x})` });
    for (const { logp, x } of FX.special.icdf) assertClose(normalIcdfLog(logp), x, { atol: 1e-14, rtol: 1e-13, msg: `icdf(${logp})` });
    assert.equal(normalIcdfLog(-Infinity), -Infinity);
    assert.equal(normalLogCdf(-Infinity), -Infinity);
    assert.ok(normalLogCdf(Infinity) === 0);
  });

  test('values in [a, b] with the truncated moments, also in far tails', () => {
    FX.trunc.forEach((c, i) => {
      const a = c.a ?? -Infinity;
      for (const dtype of ['float32', 'float64'] as const) {
        const t = nd.zeros([40000], { dtype });
        assert.equal(init.truncNormal_(t, c.mean, c.std, a, c.b, g(i)), t);
        const m = moments(t.dataSync());
        const what = `${dtype} N(${c.mean}, ${c.std}) on [${a}, ${c.b}]`;
        assert.ok(m.min >= a && m.max <= c.b, `${what}: [${m.min}, ${m.max}]`);
        assert.ok(Math.abs(m.mean - c.tMean) < (5 * c.tStd) / Math.sqrt(t.size) + 1e-6, `${what}: mean ${m.mean} vs ${c.tMean}`);
        assert.ok(Math.abs(m.std / c.tStd - 1) < 0.03, `${what}: std ${m.std} vs ${c.tStd}`);
      }
    });
  });

  test('defaults are mean 0, std 1, [-2, 2]; reproducible; errors', () => {
    const a = init.truncNormal_(nd.zeros([1000]), undefined, undefined, undefined, undefined, g(4));
    const b = init.truncNormal_(nd.zeros([1000]), 0, 1, -2, 2, g(4));
    assert.deepEqual(flat(a), flat(b));
    assert.deepEqual(flat(a), flat(nd.truncNormal([1000], 0, 1, -2, 2, g(4))));
    const m = moments(a.dataSync());
    assert.ok(m.min >= -2 && m.max <= 2);
    assertThrows(() => init.truncNormal_(nd.zeros([2]), 0, 1, 1, -1), RangeError, /^truncNormal_: a < b, got a=1, b=-1$/);
    assertThrows(() => init.truncNormal_(nd.zeros([2]), 0, -1), RangeError, /^truncNormal_: std a positive finite number, got -1$/);
    assertThrows(() => init.truncNormal_(nd.zeros([2]), NaN), RangeError, /^truncNormal_: a finite mean, got NaN$/);
    assertThrows(() => init.truncNormal_(nd.zeros([2], { dtype: 'int32' })), TypeError, /^truncNormal_: a floating-point tensor, got int32$/);
  });
});

describe('deterministic and structured initializers', () => {
  test('uniform_, normal_, constant_, ones_, zeros_', () => {
    const u = init.uniform_(nd.zeros([50000]), -3, -1, g(1));
    let m = moments(u.dataSync());
    assert.ok(m.min >= -3 && m.max < -1 && Math.abs(m.mean + 2) < 0.01);
    const n = init.normal_(nd.zeros([50000]), 0, 0.02, g(1));
    m = moments(n.dataSync());
    assert.ok(Math.abs(m.std / 0.02 - 1) < 0.02);
    assert.deepEqual(flat(init.constant_(nd.zeros([2, 2]), 0.5)), [0.5, 0.5, 0.5, 0.5]);
    const i = init.ones_(nd.zeros([3], { dtype: 'int32' }));
    assert.equal(i.dtype, 'int32');
    assert.deepEqual(flat(i), [1, 1, 1]);
    assert.deepEqual(flat(init.zeros_(nd.ones([2]))), [0, 0]);
    assertThrows(() => init.constant_(nd.zeros([2]), 'a' as unknown as number), TypeError, /^constant_: a number value, got "a"$/);
  });

  test('eye_', () => {
    assert.deepEqual(init.eye_(nd.ones([2, 3])).toArray(), [[1, 0, 0], [0, 1, 0]]);
    assertThrows(() => init.eye_(nd.zeros([2, 2, 2])), RangeError, /^eye_: a tensor with 2 dims, got \[2,2,2\]$/);
  });

  test('dirac_ makes a convolution preserve its input channels', () => {
    const w = init.dirac_(nd.ones([4, 3, 3, 3]));
    const x = nd.randn([1, 3, 5, 5], g(2));
    const y = nd.conv2d(x, w, null, { padding: 1 });
    assertClose(nd.getItem(y, ':', '0:3'), x);
    assertClose(nd.getItem(y, ':', '3:4'), nd.zeros([1, 1, 5, 5]));
    const wg = init.dirac_(nd.zeros([4, 2, 3]), 2);
    const v = wg.toArray() as number[][][];
    assert.deepEqual([v[0]![0]![1], v[1]![1]![1], v[2]![0]![1], v[3]![1]![1]], [1, 1, 1, 1]);
    assert.equal(flat(wg).reduce((s, x) => s + x, 0), 4);
    assertThrows(() => init.dirac_(nd.zeros([3, 3])), RangeError, /^dirac_: a tensor with 3, 4 or 5 dims, got \[3,3\]$/);
    assertThrows(() => init.dirac_(nd.zeros([3, 3, 3]), 2), RangeError, /^dirac_: groups dividing dim 0 \(3\), got 2$/);
  });

  test('orthogonal_: orthonormal rows or columns, scaled by gain', () => {
    for (const [shape, gain] of [[[6, 4], 1], [[3, 7], 2], [[4, 2, 3], 1]] as const) {
      const t = init.orthogonal_(nd.zeros([...shape], { dtype: 'float64' }), gain, g(3));
      const rows = shape[0];
      const q = nd.reshape(t, [rows, -1]);
      const cols = q.shape[1]!;
      const gram = rows >= cols ? nd.matmul(nd.transpose(q, 0, 1), q) : nd.matmul(q, nd.transpose(q, 0, 1));
      const k = Math.min(rows, cols);
      assertClose(gram, nd.mul(nd.eye(k, k, { dtype: 'float64' }), gain * gain), { atol: 1e-12 });
    }
    assertThrows(() => init.orthogonal_(nd.zeros([3])), RangeError, /^orthogonal_: a tensor with at least 2 dims, got \[3\]$/);
  });

  test('sparse_: ceil(sparsity * rows) zeros per column', () => {
    const t = init.sparse_(nd.zeros([10, 6]), 0.25, 0.01, g(4));
    const v = t.toArray() as number[][];
    for (let c = 0; c < 6; c++) assert.equal(v.filter((r) => r[c] === 0).length, 3, `column ${c}`);
    assertThrows(() => init.sparse_(nd.zeros([2, 2, 2]), 0.1), RangeError, /^sparse_: a tensor with 2 dims, got \[2,2,2\]$/);
    assertThrows(() => init.sparse_(nd.zeros([2, 2]), 1.5), RangeError, /^sparse_: sparsity in \[0, 1\], got 1.5$/);
  });
});

describe("needle's functional initializers", () => {
  test('rand, randn, constant, ones, zeros accept dims or an array, then options', () => {
    const r = init.rand(300, 200, { low: -2, high: 4, ...g(1) });
    assert.deepEqual([...r.shape], [300, 200]);
    const m = moments(r.dataSync());
    assert.ok(m.min >= -2 && m.max < 4 && Math.abs(m.mean - 1) < 0.03);
    assert.deepEqual(flat(init.rand([300, 200], { low: -2, high: 4, ...g(1) })), flat(r));
    assert.deepEqual([...init.rand(2, 3).shape], [2, 3]);
    const n = init.randn(100000, { mean: 5, std: 3, dtype: 'float64', ...g(2) });
    assert.equal(n.dtype, 'float64');
    const mn = moments(n.dataSync());
    assert.ok(Math.abs(mn.mean - 5) < 0.05 && Math.abs(mn.std / 3 - 1) < 0.01);
    assert.deepEqual(init.constant(2, 2, { c: 7 }).toArray(), [[7, 7], [7, 7]]);
    assert.deepEqual(init.constant([3]).toArray(), [1, 1, 1]);
    assert.deepEqual(init.ones(2, { dtype: 'int32' }).toArray(), [1, 1]);
    assert.deepEqual(init.zeros([1, 2]).toArray(), [[0, 0]]);
    const req = init.randn(3, { requiresGrad: true });
    assert.ok(req.requiresGrad);
  });

  test('randb: booleans true with probability p', () => {
    const b = init.randb(100000, { p: 0.3, ...g(3) });
    assert.equal(b.dtype, 'bool');
    const mean = flat(b).reduce((s, x) => s + x, 0) / 100000;
    assert.ok(Math.abs(mean - 0.3) < 0.01, `mean ${mean}`);
    assert.equal(init.randb(4, { dtype: 'float32' }).dtype, 'float32');
    assertThrows(() => init.randb(3, { p: 2 }), RangeError, /^randb: p a probability in \[0, 1\], got 2$/);
  });

  test('oneHot(n, i), zerosLike, onesLike', () => {
    assert.deepEqual(init.oneHot(4, [2, 0]).toArray(), [[0, 0, 1, 0], [1, 0, 0, 0]]);
    assert.deepEqual(init.oneHot(3, 1).toArray(), [0, 1, 0]);
    const idx = nd.tensor([[0, 1], [2, 2]], { dtype: 'int32' });
    const oh = init.oneHot(3, idx);
    assert.deepEqual([...oh.shape], [2, 2, 3]);
    assert.equal(oh.dtype, 'float32');
    assert.deepEqual(flat(oh), [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]);
    assertThrows(() => init.oneHot(3, [3]), RangeError, /^oneHot: indices in \[0, 3\), got 3$/);
    assertThrows(() => init.oneHot(3, nd.tensor([1])), TypeError, /^oneHot: an integer index tensor, got float32$/);
    const x = nd.ones([2, 3], { dtype: 'float64' });
    const z = init.zerosLike(x);
    assert.equal(z.dtype, 'float64');
    assert.deepEqual(z.toArray(), [[0, 0, 0], [0, 0, 0]]);
    const o = init.onesLike(nd.zeros([2], { dtype: 'int32' }), { requiresGrad: false });
    assert.equal(o.dtype, 'int32');
    assert.deepEqual(o.toArray(), [1, 1]);
  });

  test('xavier and kaiming (needle layout (fanIn, fanOut))', () => {
    const x = init.xavierUniform(300, 200, 1.5, g(1));
    assert.deepEqual([...x.shape], [300, 200]);
    const bx = 1.5 * Math.sqrt(6 / 500);
    let m = moments(x.dataSync());
    assert.ok(m.max <= Math.fround(bx) && m.min >= -Math.fround(bx) && m.max > 0.998 * bx);
    m = moments(init.xavierNormal(300, 200, 1, g(2)).dataSync());
    assert.ok(Math.abs(m.std / Math.sqrt(2 / 500) - 1) < 0.02);
    const k = init.kaimingUniform(200, 300, g(3));
    assert.deepEqual([...k.shape], [200, 300]);
    const bk = Math.SQRT2 * Math.sqrt(3 / 200);
    m = moments(k.dataSync());
    assert.ok(m.max <= Math.fround(bk) && m.min >= -Math.fround(bk) && m.max > 0.998 * bk);
    const conv = init.kaimingUniform(27, 16, { shape: [3, 3, 3, 16], ...g(4) });
    assert.deepEqual([...conv.shape], [3, 3, 3, 16]);
    m = moments(init.kaimingNormal(400, 100, g(5)).dataSync());
    assert.ok(Math.abs(m.std / (Math.SQRT2 / 20) - 1) < 0.02);
    assertThrows(() => init.xavierUniform(0, 3), RangeError, /^xavierUniform: fanIn a positive integer, got 0$/);
  });
});

describe('docs/init.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'init.md'), 'utf8');

  test('lists every export of nn.init', () => {
    const names = Object.keys(init).filter((k) => typeof (init as Record<string, unknown>)[k] === 'function');
    const missing = names.filter((n) => !new RegExp(`\\b${n}\\(`).test(doc));
    assert.deepEqual(missing, [], `not in docs/init.md: ${missing.join(', ')}`);
  });

  test('every example runs', () => {
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 3);
    for (const code of blocks) {
      try {
        new Function('nd', code)(nd);
      } catch (e) {
        assert.fail(`example failed: ${(e as Error).message}\n${code}`);
      }
    }
  });
});
