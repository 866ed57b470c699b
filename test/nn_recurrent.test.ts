/**
 * Recurrent layers beyond the PyTorch parity fixtures (test/fixtures/modules_recurrent.json):
 * parameter names, error messages, BPTT through 1,000 steps, dropout between layers, seeded init,
 * and higher-order / forward-mode derivatives through the composite cells.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import { assertClose, assertShape, assertThrows } from './helpers.js';

const names = (m: nd.nn.Module) => m.namedParameters().map(([k, p]) => [k, [...p.shape]]);

describe('recurrent: parameter names and layouts match PyTorch', () => {
  test('LSTM, 2 layers, bidirectional (torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True))', () => {
    const m = new nd.nn.LSTM(10, 20, { numLayers: 2, bidirectional: true });
    const expected: [string, number[]][] = [];
    for (const l of [0, 1]) {
      for (const s of ['', '_reverse']) {
        const inSize = l === 0 ? 10 : 40;
        expected.push([`weight_ih_l${l}${s}`, [80, inSize]], [`weight_hh_l${l}${s}`, [80, 20]], [`bias_ih_l${l}${s}`, [80]], [`bias_hh_l${l}${s}`, [80]]);
      }
    }
    assert.deepEqual(names(m), expected);
    assert.deepEqual(Object.keys(m.stateDict()), expected.map(([k]) => k));
    assert.equal(m.allWeights.length, 4);
    assert.equal(m.allWeights[3]![0], m.parameters()[12]);
  });

  test('GRU without bias, RNN relu, cells', () => {
    assert.deepEqual(names(new nd.nn.GRU(3, 5, { bias: false })), [['weight_ih_l0', [15, 3]], ['weight_hh_l0', [15, 5]]]);
    assert.deepEqual(names(new nd.nn.RNN(3, 5, { nonlinearity: 'relu' })).map(([k]) => k), ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']);
    assert.deepEqual(names(new nd.nn.RNNCell(3, 4)), [['weight_ih', [4, 3]], ['weight_hh', [4, 4]], ['bias_ih', [4]], ['bias_hh', [4]]]);
    assert.deepEqual(names(new nd.nn.LSTMCell(3, 4)).map(([, s]) => s), [[16, 3], [16, 4], [16], [16]]);
    assert.deepEqual(names(new nd.nn.GRUCell(3, 4, { bias: false })), [['weight_ih', [12, 3]], ['weight_hh', [12, 4]]]);
  });

  test('numLayers may be the third positional argument, as nn.LSTM(10, 20, 2)', () => {
    const m = new nd.nn.LSTM(10, 20, 2, { batchFirst: true });
    assert.equal(m.numLayers, 2);
    assert.equal(m.batchFirst, true);
    assert.equal(new nd.nn.GRU(4, 4, 3).parameters().length, 12);
  });

  test('init: seeded, U(-1/sqrt(hidden), 1/sqrt(hidden)), resetParameters redraws in place', () => {
    const a = new nd.nn.GRU(3, 16, { generator: new nd.Generator(5) });
    const b = new nd.nn.GRU(3, 16, { generator: new nd.Generator(5) });
    nd.manualSeed(9);
    const c = new nd.nn.GRU(3, 16);
    nd.manualSeed(9);
    const d = new nd.nn.GRU(3, 16);
    for (const [p, q] of [[a, b], [c, d]] as const) {
      p.parameters().forEach((w, i) => assert.deepEqual(w.toArray(), q.parameters()[i]!.toArray()));
    }
    for (const w of a.parameters()) for (const v of w.dataSync()) assert.ok(Math.abs(v) <= 0.25);
    const w0 = a.weightIhL0;
    const before = Array.from(w0.dataSync());
    a.resetParameters();
    assert.equal(a.weightIhL0, w0);
    assert.notDeepEqual(Array.from(w0.dataSync()), before);
  });

  test('dtype option gives float64 parameters and outputs', () => {
    const m = new nd.nn.LSTM(3, 4, { dtype: 'float64' });
    const [out, [h]] = m.forward(nd.randn([2, 1, 3], { dtype: 'float64' }));
    assert.equal(out.dtype, 'float64');
    assert.equal(h.dtype, 'float64');
  });
});

describe('recurrent: errors name the layer and the shapes', () => {
  const x = nd.randn([5, 3, 10]);

  test('wrong input rank', () => {
    assertThrows(() => new nd.nn.LSTM(10, 20).forward(nd.randn([10])), RangeError, /^LSTM: input of shape \(L, N, 10\) or \(L, 10\), got \[10\]$/);
    assertThrows(() => new nd.nn.GRU(10, 20, { batchFirst: true }).forward(nd.randn([2, 5, 3, 10])), RangeError, /^GRU: input of shape \(N, L, 10\) or \(L, 10\), got \[2,5,3,10\]$/);
    assertThrows(() => new nd.nn.RNNCell(10, 20).forward(x), RangeError, /^RNNCell: input of shape \(N, 10\) or \(10\), got \[5,3,10\]$/);
    assertThrows(() => new nd.nn.LSTMCell(10, 20).forward(nd.randn([])), RangeError, /^LSTMCell: input of shape \(N, 10\) or \(10\), got \[\]$/);
  });

  test('wrong feature size', () => {
    assertThrows(() => new nd.nn.RNN(10, 20).forward(nd.randn([5, 3, 7])), RangeError, /^RNN: input of shape \(L, N, 10\) or \(L, 10\), got \[5,3,7\]$/);
    assertThrows(() => new nd.nn.GRUCell(10, 20).forward(nd.randn([3, 7])), RangeError, /^GRUCell: input of shape \(N, 10\) or \(10\), got \[3,7\]$/);
  });

  test('wrong initial state shape', () => {
    assertThrows(() => new nd.nn.RNN(10, 20, 2).forward(x, nd.zeros([1, 3, 20])), RangeError, /^RNN: h0 of shape \[2,3,20\], got \[1,3,20\]$/);
    assertThrows(() => new nd.nn.GRU(10, 20, { bidirectional: true }).forward(x, nd.zeros([1, 3, 20])), RangeError, /^GRU: h0 of shape \[2,3,20\], got \[1,3,20\]$/);
    // batched input with an unbatched state, and the reverse
    assertThrows(() => new nd.nn.LSTM(10, 20).forward(x, [nd.zeros([1, 3, 20]), nd.zeros([3, 20])]), RangeError, /^LSTM: c0 of shape \[1,3,20\], got \[3,20\]$/);
    assertThrows(() => new nd.nn.GRU(10, 20).forward(nd.randn([5, 10]), nd.zeros([1, 1, 20])), RangeError, /^GRU: h0 of shape \[1,20\], got \[1,1,20\]$/);
    assertThrows(() => new nd.nn.RNNCell(10, 20).forward(nd.randn([3, 10]), nd.zeros([2, 20])), RangeError, /^RNNCell: hx of shape \[3,20\], got \[2,20\]$/);
    assertThrows(() => new nd.nn.LSTMCell(10, 20).forward(nd.randn([10]), [nd.zeros([20]), nd.zeros([1, 20])]), RangeError, /^LSTMCell: c0 of shape \[20\], got \[1,20\]$/);
  });

  test('wrong kinds: non-tensors, dtypes, LSTM state not a pair', () => {
    assertThrows(() => new nd.nn.LSTM(10, 20).forward([1, 2] as unknown as nd.Tensor), TypeError, /^LSTM: input to be a Tensor, got an array$/);
    assertThrows(() => new nd.nn.GRU(10, 20).forward(nd.randn([5, 3, 10], { dtype: 'float64' })), TypeError, /^GRU: input of dtype float32 \(the parameters' dtype\), got float64$/);
    assertThrows(() => new nd.nn.RNN(10, 20).forward(x, nd.zeros([1, 3, 20], { dtype: 'int32' })), TypeError, /^RNN: h0 of dtype float32 .*, got int32$/);
    assertThrows(() => new nd.nn.LSTM(10, 20).forward(x, nd.zeros([1, 3, 20]) as unknown as [nd.Tensor, nd.Tensor]), TypeError, /^LSTM: hx as a pair \[h0, c0\], got Tensor/);
    assertThrows(() => new nd.nn.LSTMCell(10, 20).forward(nd.randn([3, 10]), [nd.zeros([3, 20])] as unknown as [nd.Tensor, nd.Tensor]), TypeError, /^LSTMCell: hx as a pair \[h, c\], got an array$/);
  });

  test('empty sequence', () => {
    assertThrows(() => new nd.nn.LSTM(10, 20).forward(nd.zeros([0, 3, 10])), RangeError, /^LSTM: a sequence length of at least 1, got input \[0,3,10\]$/);
    assertThrows(() => new nd.nn.GRU(10, 20, { batchFirst: true }).forward(nd.zeros([3, 0, 10])), RangeError, /^GRU: a sequence length of at least 1, got input \[3,0,10\]$/);
  });

  test('constructor arguments', () => {
    assertThrows(() => new nd.nn.LSTM(10, 0), RangeError, /^LSTM: hiddenSize to be a positive integer, got 0$/);
    assertThrows(() => new nd.nn.GRU(-1, 4), RangeError, /^GRU: inputSize to be a non-negative integer, got -1$/);
    assertThrows(() => new nd.nn.RNN(3, 4, 0), RangeError, /^RNN: numLayers to be a positive integer, got 0$/);
    assertThrows(() => new nd.nn.RNN(3, 4, { dropout: 1.5 }), RangeError, /^RNN: a dropout probability in \[0, 1\], got 1.5$/);
    assertThrows(() => new nd.nn.RNN(3, 4, { nonlinearity: 'sigmoid' as 'tanh' }), TypeError, /^RNN: nonlinearity of "tanh" or "relu", got "sigmoid"$/);
    assertThrows(() => new nd.nn.RNNCell(3, 2.5), RangeError, /^RNNCell: hiddenSize to be a positive integer, got 2.5$/);
  });

  test('a failed call leaves the module usable', () => {
    const m = new nd.nn.LSTM(10, 20);
    assert.throws(() => m.forward(nd.randn([5, 3, 7])));
    const [out] = m.forward(x);
    assertShape(out, [5, 3, 20]);
  });
});

describe('recurrent: shapes', () => {
  test('batchFirst, bidirectional, unbatched', () => {
    const m = new nd.nn.GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    const [out, h] = m.forward(nd.randn([2, 7, 3]));
    assertShape(out, [2, 7, 8]);
    assertShape(h, [4, 2, 4]);
    const [uo, uh] = m.forward(nd.randn([7, 3]));
    assertShape(uo, [7, 8]);
    assertShape(uh, [4, 4]);
  });

  test('unbatched input equals a batch of one', () => {
    nd.manualSeed(4);
    const m = new nd.nn.LSTM(3, 4, { numLayers: 2, bidirectional: true });
    const x = nd.randn([6, 3]);
    const h0 = nd.randn([4, 4]);
    const c0 = nd.randn([4, 4]);
    const [o1, [h1, c1]] = m.forward(x, [h0, c0]);
    const [o2, [h2, c2]] = m.forward(x.unsqueeze(1), [h0.unsqueeze(1), c0.unsqueeze(1)]);
    assertClose(o1, o2.squeeze(1), { atol: 0, rtol: 0 });
    assertClose(h1, h2.squeeze(1), { atol: 0, rtol: 0 });
    assertClose(c1, c2.squeeze(1), { atol: 0, rtol: 0 });
  });

  test('the last output of the forward direction is hN; the first of the reverse direction is its hN', () => {
    nd.manualSeed(2);
    const m = new nd.nn.RNN(3, 4, { bidirectional: true });
    const [out, h] = m.forward(nd.randn([5, 2, 3]));
    assertClose(out.get(4, ':', '0:4'), h.get(0), { atol: 0, rtol: 0 });
    assertClose(out.get(0, ':', '4:8'), h.get(1), { atol: 0, rtol: 0 });
  });

  test('a cell stepped by hand equals the full layer', () => {
    nd.manualSeed(6);
    const cell = new nd.nn.LSTMCell(3, 5);
    const layer = new nd.nn.LSTM(3, 5);
    layer.loadStateDict({
      weight_ih_l0: cell.weightIh, weight_hh_l0: cell.weightHh, bias_ih_l0: cell.biasIh!, bias_hh_l0: cell.biasHh!,
    });
    const x = nd.randn([4, 2, 3]);
    let hc: [nd.Tensor, nd.Tensor] | undefined;
    const hs: nd.Tensor[] = [];
    for (let t = 0; t < 4; t++) {
      hc = cell.forward(x.get(t), hc);
      hs.push(hc[0]);
    }
    const [out, [hN, cN]] = layer.forward(x);
    assertClose(out, nd.stack(hs), { atol: 1e-6 });
    assertClose(hN.squeeze(0), hc![0], { atol: 1e-6 });
    assertClose(cN.squeeze(0), hc![1], { atol: 1e-6 });
  });
});

describe('recurrent: backpropagation through 1,000 steps', () => {
  test('LSTM gradients over 1,000 steps match finite differences (float64)', () => {
    nd.manualSeed(11);
    const m = new nd.nn.LSTM(2, 3, { dtype: 'float64' });
    const x = nd.randn([1000, 2, 2], { dtype: 'float64', requiresGrad: true });
    const v = nd.randn([1000, 2, 3], { dtype: 'float64' });
    const loss = () => {
      const [out, [hN, cN]] = m.forward(x);
      return nd.add(nd.sum(nd.mul(out, v)), nd.add(hN.sum(), cN.sum()));
    };
    loss().backward();
    const p = m.weightHhL0;
    const g = p.grad!.dataSync();
    for (const k of [0, 17]) {
      const base = Float64Array.from(p.dataSync());
      const at = (d: number) => {
        const data = base.slice();
        data[k]! += d;
        p.array = nd.NDArray.fromData(data, p.shape, 'float64', p.device);
        return nd.noGrad(() => loss().item());
      };
      const eps = 1e-6;
      const num = (at(eps) - at(-eps)) / (2 * eps);
      p.array = nd.NDArray.fromData(base, p.shape, 'float64', p.device);
      assert.ok(Math.abs(g[k]! - num) <= 1e-6 + 1e-5 * Math.abs(num), `weight_hh_l0[${k}]: analytic ${g[k]}, numeric ${num}`);
    }
    const gx = x.grad!;
    assertShape(gx, [1000, 2, 2]);
    assert.ok(gx.dataSync().every(Number.isFinite));
    assert.ok(Math.abs(gx.get(0).abs().sum().item()) > 0, 'the first step receives a gradient');
  });

  test('a GRU trains on 1,000-step sequences (loss falls)', () => {
    nd.manualSeed(3);
    const m = new nd.nn.GRU(1, 4);
    const head = new nd.nn.Linear(4, 1);
    const x = nd.randn([1000, 2, 1]);
    const target = nd.tensor([[0.5], [-0.5]]);
    const params = [...m.parameters(), ...head.parameters()];
    const losses: number[] = [];
    for (let it = 0; it < 4; it++) {
      const [out] = m.forward(x);
      const pred = head.forward(out.get(-1));
      const loss = nd.mean(nd.square(nd.sub(pred, target)));
      losses.push(loss.item());
      for (const p of params) p.grad = null;
      loss.backward();
      nd.noGrad(() => {
        for (const p of params) p.array = nd.sub(p, nd.mul(p.grad!, 0.5)).array;
      });
    }
    assert.ok(losses[3]! < losses[0]!, `losses ${losses.join(', ')}`);
  });
});

describe('recurrent: dropout between layers', () => {
  const x = nd.randn([6, 2, 3], { generator: new nd.Generator(1) });

  test('eval mode: dropout is off, and equals the same weights with dropout 0', () => {
    const a = new nd.nn.LSTM(3, 4, { numLayers: 3, dropout: 0.5 }).eval();
    const b = new nd.nn.LSTM(3, 4, { numLayers: 3 }).eval();
    b.loadStateDict(a.stateDict());
    const [oa, [ha]] = a.forward(x);
    const [ob, [hb]] = b.forward(x);
    assertClose(oa, ob, { atol: 0, rtol: 0 });
    assertClose(ha, hb, { atol: 0, rtol: 0 });
  });

  test('train mode: masks from the seeded generator change the output reproducibly', () => {
    const m = new nd.nn.GRU(3, 4, { numLayers: 2, dropout: 0.5, generator: new nd.Generator(7) });
    const [evalOut] = m.eval().forward(x);
    m.train();
    const run = (seed: number) => {
      m.generator!.manualSeed(seed);
      return m.forward(x);
    };
    const [o1, h1] = run(3);
    const [o2] = run(3);
    const [o3] = run(4);
    assertClose(o1, o2, { atol: 0, rtol: 0 });
    assert.notDeepEqual(o1.toArray(), evalOut.toArray());
    assert.notDeepEqual(o1.toArray(), o3.toArray());
    // the first layer's state is computed before any dropout
    const [, evalH] = m.eval().forward(x);
    assertClose(h1.get(0), evalH.get(0), { atol: 0, rtol: 0 });
  });

  test('no dropout after the last layer: one layer in train mode equals eval mode', () => {
    const m = new nd.nn.RNN(3, 4, { dropout: 0.9 });
    const [tr] = m.train().forward(x);
    const [ev] = m.eval().forward(x);
    assertClose(tr, ev, { atol: 0, rtol: 0 });
  });

  test('dropout 1 cuts the path from layer 0 to the output', () => {
    const m = new nd.nn.LSTM(3, 4, { numLayers: 2, dropout: 1 });
    const xi = nd.randn([6, 2, 3], { requiresGrad: true });
    const [out] = m.forward(xi);
    const [g] = nd.autograd.grad(out.sum(), [m.weightIhL0], { allowUnused: true });
    assert.ok(g!.dataSync().every((v) => v === 0));
    const [out2] = m.forward(nd.randn([6, 2, 3]));
    assertClose(out, out2, { atol: 0, rtol: 0 });
  });
});

describe('recurrent: higher-order and forward-mode derivatives (composite cells)', () => {
  test('gradcheck of input and state gradients (float64)', () => {
    nd.manualSeed(8);
    const gru = new nd.nn.GRU(2, 3, { numLayers: 2, bidirectional: true, dtype: 'float64' });
    const r1 = nd.autograd.gradcheck((x, h) => gru.forward(x, h)[0], [nd.randn([4, 2, 2], { dtype: 'float64' }), nd.randn([4, 2, 3], { dtype: 'float64' })]);
    assert.ok(r1.ok, JSON.stringify(r1.worst));
    const lstm = new nd.nn.LSTMCell(2, 3, { dtype: 'float64' });
    const r2 = nd.autograd.gradcheck((x, h, c) => nd.cat(lstm.forward(x, [h, c]), -1), [[2, 2], [2, 3], [2, 3]].map((s) => nd.randn(s, { dtype: 'float64' })));
    assert.ok(r2.ok, JSON.stringify(r2.worst));
  });

  test('second order: the gradient of an input gradient matches finite differences', () => {
    nd.manualSeed(12);
    const cell = new nd.nn.LSTMCell(2, 3, { dtype: 'float64' });
    const h = nd.randn([2, 3], { dtype: 'float64' });
    const c = nd.randn([2, 3], { dtype: 'float64' });
    const gradNormSq = (x: nd.Tensor) => {
      const [gx] = nd.autograd.grad(cell.forward(x, [h, c])[0].sum(), [x], { createGraph: true });
      return nd.sum(nd.square(gx!));
    };
    const r = nd.autograd.gradcheck(gradNormSq, [nd.randn([2, 2], { dtype: 'float64' })]);
    assert.ok(r.ok, JSON.stringify(r.worst));
  });

  test('jvp through an RNN equals the directional finite difference', () => {
    nd.manualSeed(13);
    const m = new nd.nn.RNN(2, 3, { numLayers: 2, dtype: 'float64' });
    const x = nd.randn([5, 2, 2], { dtype: 'float64' });
    const t = nd.randn([5, 2, 2], { dtype: 'float64' });
    const f = (z: nd.Tensor) => m.forward(z)[0];
    const [, tangent] = nd.autograd.jvp(f, [x], [t]);
    const eps = 1e-6;
    const fd = nd.div(nd.sub(f(nd.add(x, nd.mul(t, eps))), f(nd.sub(x, nd.mul(t, eps)))), 2 * eps);
    assertClose(tangent, fd, { atol: 1e-7, rtol: 1e-6 });
  });
});

describe('recurrent: docs/nn-recurrent.md', () => {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'nn-recurrent.md'), 'utf8');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

  test('has a runnable example for every class', () => {
    for (const cls of ['RNNCell', 'LSTMCell', 'GRUCell', 'RNN', 'LSTM', 'GRU']) {
      assert.ok(blocks.some((b) => b.includes(`new nd.nn.${cls}(`)), `no example for ${cls}`);
    }
  });

  blocks.forEach((code, i) => {
    test(`example ${i + 1} runs`, () => {
      // the examples are TypeScript without type annotations: drop the import and non-null assertions
      const js = code.replace(/^import .*$/gm, '').replace(/(\w|\))!(?=[.[)])/g, '$1');
      new Function('nd', js)(nd);
    });
  });
});
