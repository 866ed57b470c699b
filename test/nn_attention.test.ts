/**
 * Attention and Transformer layers beyond the PyTorch parity fixtures
 * (test/fixtures/modules_attention.json): parameter names, error messages, weights that sum to 1,
 * causal masking that leaks nothing from the future, padding masks, cloning in the stacks,
 * positional encodings, scaledDotProductAttention, dropout and higher-order derivatives.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../src/index.js';
import { assertClose, assertShape, assertThrows, flat } from './helpers.js';

const keys = (m: nd.nn.Module) => m.namedParameters().map(([k, p]) => [k, [...p.shape]]);
const gen = (seed: number) => new nd.Generator(seed);

describe('attention: parameter names and layouts match PyTorch', () => {
  test('MultiheadAttention packed (kdim = vdim = embedDim)', () => {
    const m = new nd.nn.MultiheadAttention(8, 2);
    assert.deepEqual(keys(m), [['in_proj_weight', [24, 8]], ['in_proj_bias', [24]], ['out_proj.weight', [8, 8]], ['out_proj.bias', [8]]]);
    assert.deepEqual(Object.keys(m.stateDict()), ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
  });

  test('MultiheadAttention with kdim / vdim, no bias, bias_kv', () => {
    assert.deepEqual(keys(new nd.nn.MultiheadAttention(8, 2, { kdim: 6, vdim: 5, bias: false })), [
      ['q_proj_weight', [8, 8]], ['k_proj_weight', [8, 6]], ['v_proj_weight', [8, 5]], ['out_proj.weight', [8, 8]],
    ]);
    assert.deepEqual(keys(new nd.nn.MultiheadAttention(4, 1, { addBiasKv: true })).map(([k]) => k), [
      'in_proj_weight', 'in_proj_bias', 'bias_k', 'bias_v', 'out_proj.weight', 'out_proj.bias',
    ]);
  });

  test('initialization as PyTorch: Xavier-uniform in_proj_weight, zero biases', () => {
    const m = new nd.nn.MultiheadAttention(16, 4, { generator: gen(1) });
    const bound = Math.sqrt(6 / (16 + 48));
    const w = flat(m.inProjWeight!);
    assert.ok(w.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...w.map(Math.abs)) > 0.9 * bound);
    assert.ok(flat(m.inProjBias!).every((v) => v === 0));
    assert.ok(flat(m.outProj.bias!).every((v) => v === 0));
    // seeded init is reproducible
    assert.deepEqual(flat(new nd.nn.MultiheadAttention(16, 4, { generator: gen(1) }).inProjWeight!), w);
  });

  test('TransformerEncoderLayer / DecoderLayer / stacks use torch.nn key names', () => {
    const enc = new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    assert.deepEqual(Object.keys(enc.stateDict()), [
      'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
    ]);
    const dec = new nd.nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
    const dk = Object.keys(dec.stateDict());
    assert.equal(dk.length, 18);
    assert.ok(dk.includes('multihead_attn.in_proj_weight') && dk.includes('norm3.bias'));
    const stack = new nd.nn.TransformerEncoder(enc, 2, { norm: new nd.nn.LayerNorm(8) });
    const sk = Object.keys(stack.stateDict());
    assert.equal(sk[0], 'layers.0.self_attn.in_proj_weight');
    assert.ok(sk.includes('layers.1.linear2.bias'));
    assert.deepEqual(sk.slice(-2), ['norm.weight', 'norm.bias']);
    assert.equal(new nd.nn.TransformerDecoder(dec, 3).stateDict()['layers.2.multihead_attn.out_proj.weight']?.shape.join(), '8,8');
  });
});

describe('attention: errors in the message grammar', () => {
  test('constructor arguments', () => {
    assertThrows(() => new nd.nn.MultiheadAttention(10, 3), RangeError, /^MultiheadAttention: embedDim divisible by numHeads, got embedDim 10, numHeads 3$/);
    assertThrows(() => new nd.nn.MultiheadAttention(8, 0), RangeError, /^MultiheadAttention: numHeads to be a positive integer, got 0$/);
    assertThrows(() => new nd.nn.MultiheadAttention(8, 2, { dropout: 1.5 }), RangeError, /^MultiheadAttention: dropout to be a probability in \[0, 1\], got 1.5$/);
    assertThrows(() => new nd.nn.MultiheadAttention(8, 2, { kdim: 0 }), RangeError, /kdim to be a positive integer, got 0/);
    assertThrows(() => new nd.nn.TransformerEncoderLayer(10, 4), RangeError, /^MultiheadAttention: embedDim divisible by numHeads/);
    assertThrows(() => new nd.nn.TransformerEncoderLayer(8, 2, { activation: 'tanh' as 'relu' }), TypeError, /^TransformerEncoderLayer: activation "relu", "gelu" or a function, got "tanh"$/);
    const layer = new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    assertThrows(() => new nd.nn.TransformerEncoder(layer, 0), RangeError, /^TransformerEncoder: numLayers to be a positive integer, got 0$/);
    assertThrows(() => new nd.nn.TransformerEncoder(new nd.nn.Linear(2, 2) as never, 2), TypeError, /^TransformerEncoder: a TransformerEncoderLayer or a factory/);
    assertThrows(() => nd.nn.generateSquareSubsequentMask(-1), RangeError, /^generateSquareSubsequentMask: sz to be a non-negative integer, got -1$/);
  });

  test('MultiheadAttention input shapes', () => {
    const m = new nd.nn.MultiheadAttention(8, 2, { kdim: 6, vdim: 5 });
    const q = nd.randn([4, 3, 8]);
    const k = nd.randn([5, 3, 6]);
    const v = nd.randn([5, 3, 5]);
    assertThrows(() => m.forward(nd.randn([1, 4, 3, 8]), k, v), RangeError, /^MultiheadAttention: query of shape \(L, N, 8\) or \(L, 8\), got \[1,4,3,8\]$/);
    assertThrows(() => m.forward(nd.randn([4, 3, 7]), k, v), RangeError, /^MultiheadAttention: query of shape \(L, N, 8\) or \(L, 8\), got \[4,3,7\]$/);
    assertThrows(() => m.forward(q, nd.randn([5, 3, 8]), v), RangeError, /^MultiheadAttention: key of shape \(S, N, 6\) \(3-D like query\), got \[5,3,8\]$/);
    assertThrows(() => m.forward(q, nd.randn([5, 6]), v), RangeError, /^MultiheadAttention: key of shape/);
    assertThrows(() => m.forward(q, k, nd.randn([4, 3, 5])), RangeError, /^MultiheadAttention: key and value with query's batch size 3 and one sequence length, got \[5,3,6\] and \[4,3,5\]$/);
    assertThrows(() => m.forward(q, nd.randn([5, 2, 6]), nd.randn([5, 2, 5])), RangeError, /batch size 3/);
    assertThrows(() => m.forward(q.int(), k, v), TypeError, /^MultiheadAttention: a floating-point query, got int32$/);
    assertThrows(() => m.forward(q, 'k' as never, v), TypeError, /^MultiheadAttention: key to be a Tensor, got string k$/);
    const bf = new nd.nn.MultiheadAttention(8, 2, { batchFirst: true });
    assertThrows(() => bf.forward(nd.randn([3, 8]), nd.randn([3, 4]), nd.randn([3, 8])), RangeError, /^MultiheadAttention: key of shape \(S, 8\) \(2-D like query\), got \[3,4\]$/);
  });

  test('MultiheadAttention mask shapes and dtypes', () => {
    const m = new nd.nn.MultiheadAttention(8, 2);
    const q = nd.randn([4, 3, 8]);
    const kv = nd.randn([5, 3, 8]);
    assertThrows(() => m.forward(q, kv, kv, { attnMask: nd.zeros([4, 4]) }), RangeError, /^MultiheadAttention: attnMask of shape \(4, 5\) or \(6, 4, 5\), got \[4,4\]$/);
    assertThrows(() => m.forward(q, kv, kv, { attnMask: nd.zeros([3, 4, 5]) }), RangeError, /or \(6, 4, 5\), got \[3,4,5\]$/);
    assertThrows(() => m.forward(q, kv, kv, { attnMask: nd.zeros([5]) }), RangeError, /attnMask of shape/);
    assertThrows(() => m.forward(q, kv, kv, { keyPaddingMask: nd.zeros([5, 3]).bool() }), RangeError, /^MultiheadAttention: keyPaddingMask of shape \(3, 5\), got \[5,3\]$/);
    assertThrows(() => m.forward(q, kv, kv, { keyPaddingMask: nd.zeros([3, 5], { dtype: 'int32' }) }), TypeError, /^MultiheadAttention: keyPaddingMask of dtype bool or float, got int32$/);
    assertThrows(() => m.forward(q, kv, kv, { attnMask: nd.zeros([4, 5], { dtype: 'int32' }) }), TypeError, /attnMask of dtype bool or float, got int32/);
    // unbatched: keyPaddingMask (S), 3-D attnMask (numHeads, L, S)
    assertThrows(() => m.forward(nd.randn([4, 8]), nd.randn([5, 8]), nd.randn([5, 8]), { keyPaddingMask: nd.zeros([1, 5]).bool() }), RangeError, /keyPaddingMask of shape \(5\), got \[1,5\]/);
    assertThrows(() => m.forward(nd.randn([4, 8]), nd.randn([5, 8]), nd.randn([5, 8]), { attnMask: nd.zeros([3, 4, 5]) }), RangeError, /or \(2, 4, 5\), got \[3,4,5\]/);
  });

  test('the Transformer layers name their own arguments', () => {
    const enc = new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8 });
    assertThrows(() => enc.forward(nd.randn([5, 2, 7])), RangeError, /^TransformerEncoderLayer: src of shape \(S, N, 8\) or \(S, 8\), got \[5,2,7\]$/);
    assertThrows(() => enc.forward(nd.randn([5, 2, 8]), { srcMask: nd.zeros([4, 4]) }), RangeError, /^TransformerEncoderLayer: srcMask of shape \(5, 5\) or \(4, 5, 5\), got \[4,4\]$/);
    assertThrows(() => enc.forward(nd.randn([5, 2, 8]), { srcKeyPaddingMask: nd.zeros([2, 4]).bool() }), RangeError, /^TransformerEncoderLayer: srcKeyPaddingMask of shape \(2, 5\), got \[2,4\]$/);
    const dec = new nd.nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 8, batchFirst: true });
    const tgt = nd.randn([2, 4, 8]);
    const mem = nd.randn([2, 6, 8]);
    assertThrows(() => dec.forward(tgt, nd.randn([6, 8])), RangeError, /^TransformerDecoderLayer: memory of 3 dims like tgt, got \[6,8\]$/);
    assertThrows(() => dec.forward(tgt, nd.randn([2, 6, 4])), RangeError, /^TransformerDecoderLayer: memory of shape \(N, S, 8\) or \(S, 8\), got \[2,6,4\]$/);
    assertThrows(() => dec.forward(tgt, mem, { memoryMask: nd.zeros([4, 4]) }), RangeError, /^TransformerDecoderLayer: memoryMask of shape \(4, 6\) or \(4, 4, 6\), got \[4,4\]$/);
    assertThrows(() => dec.forward(tgt, mem, { tgtKeyPaddingMask: nd.zeros([2, 6]).bool() }), RangeError, /^TransformerDecoderLayer: tgtKeyPaddingMask of shape \(2, 4\), got \[2,6\]$/);
    assertThrows(() => dec.forward(tgt, mem, { memoryKeyPaddingMask: nd.zeros([2, 4]).bool() }), RangeError, /^TransformerDecoderLayer: memoryKeyPaddingMask of shape \(2, 6\), got \[2,4\]$/);
  });

  test('positional encodings and scaledDotProductAttention', () => {
    const pe = new nd.nn.SinusoidalPositionalEncoding(8, { maxLen: 4 });
    assertThrows(() => pe.forward(nd.zeros([5, 2, 8])), RangeError, /^SinusoidalPositionalEncoding: a sequence length of at most maxLen 4, got 5 \(input \[5,2,8\]\)$/);
    assertThrows(() => pe.forward(nd.zeros([3, 2, 6])), RangeError, /^SinusoidalPositionalEncoding: input of shape \(S, N, 8\) or \(S, 8\), got \[3,2,6\]$/);
    assertThrows(() => new nd.nn.LearnedPositionalEncoding(4, 8, { batchFirst: true }).forward(nd.zeros([2, 5, 8])), RangeError, /^LearnedPositionalEncoding: a sequence length of at most maxLen 4, got 5/);
    const q = nd.randn([2, 3, 4]);
    const k = nd.randn([2, 5, 4]);
    assertThrows(() => nd.scaledDotProductAttention(q, nd.randn([2, 5, 3]), k), RangeError, /^scaledDotProductAttention: key of shape \(\.\.\., S, 4\) like the query's last dim, got \[2,5,3\]$/);
    assertThrows(() => nd.scaledDotProductAttention(q, k, nd.randn([2, 4, 4])), RangeError, /^scaledDotProductAttention: value of shape \(\.\.\., 5, Ev\)/);
    assertThrows(() => nd.scaledDotProductAttention(q, k, k, { attnMask: nd.zeros([3, 4]) }), RangeError, /^scaledDotProductAttention: attnMask broadcastable to \[2,3,5\], got \[3,4\]$/);
    assertThrows(() => nd.scaledDotProductAttention(q, k, k, { attnMask: nd.zeros([3, 5]), isCausal: true }), RangeError, /either attnMask or isCausal, got both/);
    assertThrows(() => nd.scaledDotProductAttention(nd.randn([4]), k, k), RangeError, /^scaledDotProductAttention: query of shape \(\.\.\., seq, features\), got \[4\]$/);
    assertThrows(() => nd.scaledDotProductAttention(q, nd.randn([3, 5, 4]), nd.randn([3, 5, 4])), RangeError, /batch dims that broadcast/);
  });

  test('a failed forward leaves the module usable', () => {
    const m = new nd.nn.MultiheadAttention(4, 2, { batchFirst: true });
    const x = nd.randn([2, 3, 4]);
    const [before] = m.forward(x, x, x);
    assert.throws(() => m.forward(x, x, x, { attnMask: nd.zeros([2, 2]) }));
    assertClose(m.forward(x, x, x)[0], before, { atol: 0, rtol: 0 });
  });
});

describe('attention: semantics', () => {
  test('attention weights sum to 1 over keys (averaged and per head) and masked keys get 0', () => {
    nd.manualSeed(3);
    const m = new nd.nn.MultiheadAttention(12, 3, { generator: gen(3) });
    const q = nd.randn([4, 2, 12]);
    const kv = nd.randn([6, 2, 12]);
    const kpm = nd.tensor([[false, false, false, false, true, true], [false, true, false, false, false, false]]);
    const [, avg] = m.forward(q, kv, kv, { keyPaddingMask: kpm });
    assertShape(avg!, [2, 4, 6]);
    assertClose(avg!.sum(-1), nd.ones([2, 4]), { atol: 1e-6 });
    const [, per] = m.forward(q, kv, kv, { keyPaddingMask: kpm, averageAttnWeights: false });
    assertShape(per!, [2, 3, 4, 6]);
    assertClose(per!.sum(-1), nd.ones([2, 3, 4]), { atol: 1e-6 });
    const w = per!.toArray() as number[][][][];
    for (let h = 0; h < 3; h++) {
      for (let i = 0; i < 4; i++) {
        assert.equal(w[0]![h]![i]![4], 0);
        assert.equal(w[0]![h]![i]![5], 0);
        assert.equal(w[1]![h]![i]![1], 0);
      }
    }
    // averaged weights are the per-head mean
    assertClose(avg!, per!.mean(1), { atol: 1e-7 });
    assert.equal(m.forward(q, kv, kv, { needWeights: false })[1], null);
  });

  test('padded keys do not influence the output', () => {
    const m = new nd.nn.MultiheadAttention(8, 2, { batchFirst: true, generator: gen(4) });
    const q = nd.randn([1, 3, 8], { generator: gen(5) });
    const kv = nd.randn([1, 5, 8], { generator: gen(6) });
    const kv2 = kv.clone().set([0, 4], nd.full([8], 100)).set([0, 3], nd.full([8], -7));
    const kpm = nd.tensor([[false, false, false, true, true]]);
    assertClose(m.forward(q, kv2, kv2, { keyPaddingMask: kpm })[0], m.forward(q, kv, kv, { keyPaddingMask: kpm })[0], { atol: 1e-6 });
  });

  const causalCheck = (name: string, f: (x: nd.Tensor) => nd.Tensor, L: number, batchFirst: boolean) => {
    test(`causal masking leaks nothing from the future: ${name}`, () => {
      const x = nd.randn(batchFirst ? [2, L, 8] : [L, 2, 8], { generator: gen(7) }).requiresGrad_();
      const y = f(x);
      for (let t = 0; t < L; t++) {
        const yt = batchFirst ? y.get(':', t) : y.get(t);
        // a random projection: the plain sum of a LayerNorm output is constant
        const [g] = nd.autograd.grad(yt.mul(nd.randn(yt.shape, { generator: gen(100 + t) })).sum(), x, { retainGraph: true });
        for (let s = 0; s < L; s++) {
          const gs = flat(batchFirst ? g!.get(':', s) : g!.get(s));
          const norm = Math.max(...gs.map(Math.abs));
          if (s > t) assert.equal(norm, 0, `output ${t} depends on input ${s}`);
          else assert.ok(norm > 0, `output ${t} should depend on input ${s}`);
        }
      }
    });
  };
  const mha = new nd.nn.MultiheadAttention(8, 2, { generator: gen(8) });
  causalCheck('MultiheadAttention isCausal', (x) => mha.forward(x, x, x, { isCausal: true })[0], 5, false);
  const enc = new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, batchFirst: true, generator: gen(9) }).eval();
  causalCheck('TransformerEncoderLayer with generateSquareSubsequentMask', (x) => enc.forward(x, { srcMask: nd.nn.generateSquareSubsequentMask(4) }), 4, true);
  const stack = new nd.nn.TransformerEncoder((i) => new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, generator: gen(10 + i) }), 2).eval();
  causalCheck('pre-norm TransformerEncoder isCausal', (x) => stack.forward(x, { isCausal: true }), 4, false);
  const dec = new nd.nn.TransformerDecoder(new nd.nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, generator: gen(12) }), 2).eval();
  const memory = nd.randn([3, 2, 8], { generator: gen(13) });
  causalCheck('TransformerDecoder tgtIsCausal', (x) => dec.forward(x, memory, { tgtIsCausal: true }), 4, false);
  causalCheck('scaledDotProductAttention isCausal', (x) => nd.scaledDotProductAttention(x, x, x, { isCausal: true }), 5, true);

  test('isCausal, a bool mask and generateSquareSubsequentMask agree', () => {
    const m = new nd.nn.MultiheadAttention(8, 4, { batchFirst: true, generator: gen(14) });
    const x = nd.randn([2, 5, 8], { generator: gen(15) });
    const a = m.forward(x, x, x, { isCausal: true });
    const b = m.forward(x, x, x, { attnMask: nd.nn.generateSquareSubsequentMask(5) });
    const c = m.forward(x, x, x, { attnMask: nd.ones([5, 5]).triu(1).bool() });
    assertClose(a[0], b[0], { atol: 0, rtol: 0 });
    assertClose(a[0], c[0], { atol: 0, rtol: 0 });
    assertClose(a[1]!, c[1]!, { atol: 0, rtol: 0 });
    const mask = nd.nn.generateSquareSubsequentMask(3).toArray();
    assert.deepEqual(mask, [[0, -Infinity, -Infinity], [0, 0, -Infinity], [0, 0, 0]]);
    assert.equal(nd.nn.generateSquareSubsequentMask(2, { dtype: 'float64' }).dtype, 'float64');
  });

  test('batchFirst, sequence-first and unbatched layouts agree', () => {
    const m = new nd.nn.MultiheadAttention(6, 3, { generator: gen(16) });
    const mb = new nd.nn.MultiheadAttention(6, 3, { batchFirst: true });
    mb.loadStateDict(m.stateDict());
    const q = nd.randn([2, 4, 6], { generator: gen(17) });
    const kv = nd.randn([2, 3, 6], { generator: gen(18) });
    const [yb, wb] = mb.forward(q, kv, kv);
    const [ys, ws] = m.forward(q.transpose(0, 1), kv.transpose(0, 1), kv.transpose(0, 1));
    assertClose(yb, ys.transpose(0, 1), { atol: 1e-6 });
    assertClose(wb!, ws!, { atol: 1e-7 });
    const [yu, wu] = m.forward(q.get(1), kv.get(1), kv.get(1));
    assertClose(yu, yb.get(1), { atol: 1e-6 });
    assertClose(wu!, wb!.get(1), { atol: 1e-7 });
  });

  test('a 3-D attnMask is indexed n * numHeads + h as PyTorch', () => {
    const m = new nd.nn.MultiheadAttention(4, 2, { batchFirst: true, generator: gen(19) });
    const x = nd.randn([2, 3, 4], { generator: gen(20) });
    // hide key 2 for batch 1, head 0 only
    const mask = nd.zeros([4, 3, 3]).bool().clone();
    mask.set([2, ':', 2], 1);
    const [, w] = m.forward(x, x, x, { attnMask: mask, averageAttnWeights: false });
    const arr = w!.toArray() as number[][][][];
    for (let i = 0; i < 3; i++) {
      assert.equal(arr[1]![0]![i]![2], 0);
      assert.ok(arr[1]![1]![i]![2]! > 0 && arr[0]![0]![i]![2]! > 0);
    }
  });

  test('attention dropout: active in training only, reproducible with a generator', () => {
    const x = nd.randn([3, 2, 8], { generator: gen(21) });
    const run = () => {
      const m = new nd.nn.MultiheadAttention(8, 2, { dropout: 0.5, generator: gen(22) });
      return [m.forward(x, x, x)[1]!, m.eval().forward(x, x, x)[1]!];
    };
    const [wTrain, wEval] = run();
    assert.ok(flat(wTrain).some((v) => v === 0));
    assertClose(wEval.sum(-1), nd.ones([2, 3]), { atol: 1e-6 });
    assertClose(run()[0]!, wTrain, { atol: 0, rtol: 0 });
  });
});

describe('Transformer stacks', () => {
  test('a layer is cloned numLayers times with the same values (PyTorch deepcopy); a factory gives its own layers', () => {
    const layer = new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, generator: gen(23) });
    const stack = new nd.nn.TransformerEncoder(layer, 3);
    const sd = stack.stateDict();
    for (const i of [0, 1, 2]) assertClose(sd[`layers.${i}.linear1.weight`]!, layer.linear1.weight, { atol: 0, rtol: 0 });
    const l0 = stack.layers.at(0) as nd.nn.TransformerEncoderLayer;
    const l1 = stack.layers.at(1) as nd.nn.TransformerEncoderLayer;
    assert.notEqual(l0, layer);
    assert.notEqual(l0.linear1.weight, l1.linear1.weight);
    assert.equal(stack.parameters().length, 3 * layer.parameters().length);
    const f = new nd.nn.TransformerEncoder((i) => new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, generator: gen(30 + i) }), 2);
    const fs = f.stateDict();
    assert.notDeepEqual(flat(fs['layers.0.linear1.weight']), flat(fs['layers.1.linear1.weight']));
  });

  test('a TransformerEncoder equals its layers applied in turn, then the norm', () => {
    const stack = new nd.nn.TransformerEncoder(
      (i) => new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, generator: gen(40 + i) }), 2,
      { norm: new nd.nn.LayerNorm(8) },
    );
    const x = nd.randn([5, 2, 8], { generator: gen(42) });
    const kpm = nd.tensor([[false, false, false, true, true], [false, false, false, false, false]]);
    const [a, b] = [...stack.layers] as nd.nn.TransformerEncoderLayer[];
    const manual = stack.norm!.forward(b!.forward(a!.forward(x, { srcKeyPaddingMask: kpm }), { srcKeyPaddingMask: kpm }) as never);
    assertClose(stack.forward(x, { srcKeyPaddingMask: kpm }), manual as nd.Tensor, { atol: 0, rtol: 0 });
  });

  test('train() / eval() reach every dropout; layer dropout changes the output only in training', () => {
    const layer = new nd.nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0.3, generator: gen(50) });
    const x = nd.randn([4, 2, 8], { generator: gen(51) });
    const y1 = layer.forward(x);
    const y2 = layer.forward(x);
    assert.notDeepEqual(flat(y1), flat(y2));
    layer.eval();
    assertClose(layer.forward(x), layer.forward(x), { atol: 0, rtol: 0 });
    assert.ok(layer.modules().every((m) => !m.training));
  });

  test('Transformer: PyTorch keys, Xavier-uniform matrices, errors', () => {
    const model = new nd.nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16, generator: gen(53) });
    const sd = model.stateDict();
    const k = Object.keys(sd);
    assert.equal(k[0], 'encoder.layers.0.self_attn.in_proj_weight');
    assert.ok(k.includes('encoder.norm.weight') && k.includes('decoder.layers.0.multihead_attn.out_proj.weight') && k.includes('decoder.norm.bias'));
    assert.equal(k.filter((x) => x.startsWith('encoder.layers.')).length, 2 * 12);
    for (const [name, p] of model.namedParameters()) {
      if (p.ndim < 2) continue;
      const bound = Math.sqrt(6 / (p.shape[0]! + p.shape[1]!));
      assert.ok(flat(p).every((v) => Math.abs(v) <= bound), name);
    }
    // re-initialized per layer: the cloned layers no longer share values
    assert.notDeepEqual(flat(sd['encoder.layers.0.linear1.weight']), flat(sd['encoder.layers.1.linear1.weight']));
    assertShape(model.forward(nd.randn([6, 3, 8]), nd.randn([4, 3, 8]), { tgtIsCausal: true }), [4, 3, 8]);
    assertThrows(() => model.forward(nd.randn([6, 3, 8]), nd.randn([4, 2, 8])), RangeError, /^Transformer: src and tgt with one batch size, got \[6,3,8\] and \[4,2,8\]$/);
    assertThrows(() => model.forward(nd.randn([6, 3, 8]), nd.randn([4, 3, 6])), RangeError, /^Transformer: src and tgt with dModel 8 features, got/);
    assert.equal(nd.nn.Transformer.generateSquareSubsequentMask, nd.nn.generateSquareSubsequentMask);
  });

  test('a custom activation function', () => {
    const layer = new nd.nn.TransformerEncoderLayer(4, 1, { dimFeedforward: 8, dropout: 0, activation: (t) => t.tanh(), generator: gen(52) });
    assertShape(layer.forward(nd.randn([3, 4])), [3, 4]);
  });
});

describe('positional encodings', () => {
  test('the sinusoidal table is a non-persistent buffer with the original formula', () => {
    const pe = new nd.nn.SinusoidalPositionalEncoding(6, { maxLen: 10 });
    assert.deepEqual(Object.keys(pe.stateDict()), []);
    assert.equal(pe.buffers().length, 1);
    assertShape(pe.pe, [10, 6]);
    const t = pe.pe.toArray() as number[][];
    for (const pos of [0, 3, 9]) {
      for (let i = 0; i < 3; i++) {
        const angle = pos / 10000 ** ((2 * i) / 6);
        assert.ok(Math.abs(t[pos]![2 * i]! - Math.sin(angle)) < 1e-6);
        assert.ok(Math.abs(t[pos]![2 * i + 1]! - Math.cos(angle)) < 1e-6);
      }
    }
    const y = pe.forward(nd.zeros([2, 4, 6]));
    assertClose(y.get(':', 1), nd.tensor(t.slice(0, 2)), { atol: 1e-7 });
    const bf = new nd.nn.SinusoidalPositionalEncoding(6, { maxLen: 10, batchFirst: true });
    assertClose(bf.forward(nd.zeros([2, 4, 6])).get(1), nd.tensor(t.slice(0, 4)), { atol: 1e-7 });
  });

  test('the learned table is a parameter named weight; dropout applies in training', () => {
    const pe = new nd.nn.LearnedPositionalEncoding(16, 4, { dropout: 0.5, generator: gen(60) });
    assert.deepEqual(keys(pe), [['weight', [16, 4]]]);
    const x = nd.zeros([5, 4]).requiresGrad_();
    const y = pe.forward(x);
    assert.ok(flat(y).some((v) => v === 0));
    pe.eval();
    assertClose(pe.forward(x), pe.weight.get('0:5'), { atol: 0, rtol: 0 });
    const [g] = nd.autograd.grad(pe.forward(x).sum(), pe.weight);
    assert.deepEqual(flat(g!.sum(1)), [4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('scaledDotProductAttention', () => {
  test('matches the formula; a bool mask marks keys that take part (PyTorch 2), a float mask is added', () => {
    const q = nd.randn([2, 3, 4], { generator: gen(70) });
    const k = nd.randn([2, 5, 4], { generator: gen(71) });
    const v = nd.randn([2, 5, 6], { generator: gen(72) });
    const ref = nd.softmax(q.matmul(k.mT).div(2), -1).matmul(v);
    assertClose(nd.scaledDotProductAttention(q, k, v), ref, { atol: 1e-6 });
    const keep = nd.tensor([[true, true, false, true, false]]);
    const bias = nd.tensor([[0, 0, -Infinity, 0, -Infinity]]);
    const ref2 = nd.softmax(q.matmul(k.mT).div(2).add(bias), -1).matmul(v);
    assertClose(nd.scaledDotProductAttention(q, k, v, { attnMask: keep }), ref2, { atol: 1e-6 });
    assertClose(nd.scaledDotProductAttention(q, k, v, { attnMask: bias }), ref2, { atol: 1e-6 });
    const [out, w] = nd.attentionWithWeights(q, k, v, { scale: 0.1 });
    assertClose(w, nd.softmax(q.matmul(k.mT).mul(0.1), -1), { atol: 1e-6 });
    assertShape(out, [2, 3, 6]);
  });

  test('batch dims broadcast (one key/value set for every head)', () => {
    const q = nd.randn([2, 3, 4, 8], { generator: gen(73) });
    const kv = nd.randn([2, 1, 6, 8], { generator: gen(74) });
    const y = nd.scaledDotProductAttention(q, kv, kv);
    assertShape(y, [2, 3, 4, 8]);
    assertClose(y.get(':', 2), nd.scaledDotProductAttention(q.get(':', 2), kv.get(':', 0), kv.get(':', 0)), { atol: 1e-6 });
  });

  test('forward mode through MultiheadAttention matches finite differences', () => {
    const m = new nd.nn.MultiheadAttention(6, 2, { dtype: 'float64', generator: gen(79) });
    const x = nd.randn([3, 2, 6], { dtype: 'float64', generator: gen(80) });
    const t = nd.randn([3, 2, 6], { dtype: 'float64', generator: gen(81) });
    const kpm = nd.tensor([[false, false, true], [false, false, false]]);
    const f = (z: nd.Tensor) => m.forward(z, z, z, { keyPaddingMask: kpm })[0];
    const [, tangent] = nd.autograd.jvp(f, [x], [t]);
    const eps = 1e-6;
    const fd = nd.div(nd.sub(f(nd.add(x, nd.mul(t, eps))), f(nd.sub(x, nd.mul(t, eps)))), 2 * eps);
    assertClose(tangent, fd, { atol: 1e-7, rtol: 1e-6 });
  });

  test('first and second derivatives (float64 finite differences)', () => {
    const q = nd.randn([2, 3, 4], { dtype: 'float64', generator: gen(75) });
    const k = nd.randn([2, 5, 4], { dtype: 'float64', generator: gen(76) });
    const v = nd.randn([2, 5, 3], { dtype: 'float64', generator: gen(77) });
    const mask = nd.tensor([[true, false, true, true, true]]);
    assert.ok(nd.autograd.gradcheck((a, b, c) => nd.scaledDotProductAttention(a!, b!, c!, { attnMask: mask }), [q, k, v]).ok);
    // second order: the gradient of <d out / d q, w> is itself checked by finite differences
    const w = nd.randn([2, 3, 4], { dtype: 'float64', generator: gen(78) });
    const gq = (a: nd.Tensor) => {
      const x = a.requiresGrad ? a : a.requiresGrad_();
      const [g] = nd.autograd.grad(nd.scaledDotProductAttention(x, k, v).sum(), x, { createGraph: true });
      return g!.mul(w).sum();
    };
    assert.ok(nd.autograd.gradcheck(gq, [q]).ok);
  });
});

describe('attention: docs/nn-attention.md', () => {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'nn-attention.md'), 'utf8');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

  test('has a runnable example for every class and function', () => {
    for (const name of [
      'new nd.nn.MultiheadAttention(', 'new nd.nn.TransformerEncoderLayer(', 'new nd.nn.TransformerDecoderLayer(',
      'new nd.nn.TransformerEncoder(', 'new nd.nn.TransformerDecoder(', 'new nd.nn.SinusoidalPositionalEncoding(',
      'new nd.nn.LearnedPositionalEncoding(', 'nd.nn.generateSquareSubsequentMask(', 'new nd.nn.Transformer(', 'nd.scaledDotProductAttention(',
      'nd.attentionWithWeights(',
    ]) {
      assert.ok(blocks.some((b) => b.includes(name)), `no example for ${name}`);
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
