/**
 * Smoke tests of the sequence-model zoo (src/models/language.ts, src/models/sequence.ts): each
 * model trains a few dozen steps and its loss drops; generation gives valid ids; causal models
 * do not see the future; shapes, state dicts and errors. The full runs are examples/zoo/seq_*.ts
 * (`npm run zoo:seq`, results in docs/zoo-seq.md).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { assertClose, assertShape, assertThrows } from './helpers.js';
import { buildVocab, encode, tokenize, unigramPerplexity } from '../examples/zoo/seq_lm.js';
import { addingBatch, lastStep } from '../examples/zoo/seq_tcn.js';
import { evaluateReversal, reversalBatch } from '../examples/zoo/seq_seq2seq.js';
import { leftToRightCeiling, occurrenceTags } from '../examples/zoo/seq_tagger.js';
import { Ints } from '../examples/zoo/seq_common.js';

/** A periodic token stream: a tiny corpus a language model can learn in a few dozen steps. */
function periodicStream(n: number, vocab: number): number[] {
  const pattern = [1, 2, 3, 4, 5, 1, 2, 6, 7, 8, 3, 9].map((t) => t % vocab);
  return Array.from({ length: n }, (_, i) => pattern[i % pattern.length]!);
}

/** Trains `model` for `steps` steps with Adam on `step()`'s loss; returns [first, last] losses. */
function trainLoss(model: nd.nn.Module, steps: number, lr: number, loss: () => nd.Tensor): [number, number] {
  const opt = new nd.optim.Adam(model.parameters(), { lr });
  let first = NaN;
  let last = NaN;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const l = loss();
    l.backward();
    opt.step();
    if (s === 0) first = l.item();
    last = l.item();
  }
  return [first, last];
}

describe('LanguageModel', () => {
  for (const kind of ['rnn', 'lstm', 'gru', 'transformer'] as const) {
    test(`${kind}: shapes, state, and a few dozen steps reduce the loss`, () => {
      nd.manualSeed(0);
      const V = 12;
      const lm = new nd.models.LanguageModel(16, V, 32, { seqModel: kind, numLayers: 2, seqLen: 16, tieWeights: kind === 'transformer' });
      const source = nd.datasets.batchify(periodicStream(8 * 40, V), 8); // [40, 8]
      const [x0] = nd.datasets.getBatch(source, 0, 16);
      const [logits, h] = lm.forward(x0);
      assertShape(logits, [16 * 8, V]);
      if (kind === 'transformer') assert.equal(h, null);
      else if (kind === 'lstm') {
        assert.ok(Array.isArray(h));
        assertShape(h[0], [2, 8, 32]);
        assertShape(h[1], [2, 8, 32]);
      } else assertShape(h as nd.Tensor, [2, 8, 32]);
      let state: nd.models.LMState = null;
      let i = 0;
      const lossFn = new nd.nn.CrossEntropyLoss();
      const [first, last] = trainLoss(lm, 40, 1e-2, () => {
        if (i + 1 >= source.shape[0]! - 1) {
          i = 0;
          state = null;
        }
        const [x, y] = nd.datasets.getBatch(source, i, 16);
        i += 16;
        const [out, next] = lm.forward(x, nd.models.detachState(state));
        state = next;
        return lossFn.forward(out, y);
      });
      assert.ok(last < 0.75 * first, `${kind}: loss ${first} -> ${last}`);
    });
  }

  test('generate (nd.train.generate) extends a prompt with valid ids, for LSTM and Transformer', () => {
    nd.manualSeed(1);
    for (const kind of ['lstm', 'transformer'] as const) {
      const lm = new nd.models.LanguageModel(8, 30, 16, { seqModel: kind, seqLen: 10 });
      const ids = nd.train.generate(lm, [3, 1, 4], { maxNewTokens: 15, temperature: 0.9, topK: 5, batchFirst: false, contextLength: 10 });
      assert.equal(ids.length, 18);
      assert.deepEqual(ids.slice(0, 3), [3, 1, 4]);
      assert.ok(ids.every((t) => Number.isInteger(t) && t >= 0 && t < 30), `${kind}: ${ids}`);
      assert.equal(lm.training, true, 'generate restores training mode');
    }
  });

  test('the causal Transformer LM does not see the future', () => {
    nd.manualSeed(2);
    const lm = new nd.models.LanguageModel(16, 20, 32, { seqModel: 'transformer', numLayers: 2, seqLen: 12, dropout: 0.1 });
    lm.eval();
    const a = nd.randint(0, 20, [10, 3]);
    const changed = a.toArray() as number[][];
    for (let t = 6; t < 10; t++) changed[t] = changed[t]!.map((v) => (v + 7) % 20);
    const b = nd.tensor(changed, { dtype: 'int32' });
    const [la] = lm.forward(a);
    const [lb] = lm.forward(b);
    // rows t * N + n: positions 0..5 are identical, position 6 (whose input changed) differs
    assertClose(la.get({ stop: 6 * 3 }), lb.get({ stop: 6 * 3 }), { atol: 1e-6 });
    assert.ok(nd.abs(nd.sub(la.get({ start: 6 * 3, stop: 7 * 3 }), lb.get({ start: 6 * 3, stop: 7 * 3 }))).max().item() > 1e-4);
    // gradient check: the logits at position 4 have no gradient w.r.t. later embeddings
    lm.train();
    const emb = lm.embedding.forward(a).detach().requiresGrad_();
    const [y] = lm.seqModel.forward(emb);
    y.get(4).mul(nd.randn([3, 16])).sum().backward(); // (a plain sum of LayerNorm outputs is constant)
    const g = nd.abs(emb.grad!).sum([1, 2]).toArray() as number[];
    assert.ok(g.slice(0, 5).every((v) => v > 0), `past gradients ${g}`);
    assert.deepEqual(g.slice(5), [0, 0, 0, 0, 0]);
  });

  test('tieWeights shares one parameter; state-dict keys follow needle / PyTorch', () => {
    const lm = new nd.models.LanguageModel(16, 50, 16, { seqModel: 'lstm', tieWeights: true });
    assert.equal(lm.linear.weight, lm.embedding.weight);
    assert.equal(lm.numParameters, 50 * 16 + 4 * 16 * (16 + 16 + 2) + 50);
    assert.deepEqual(Object.keys(lm.stateDict()), [
      'embedding.weight', 'seq_model.weight_ih_l0', 'seq_model.weight_hh_l0', 'seq_model.bias_ih_l0', 'seq_model.bias_hh_l0', 'linear.weight', 'linear.bias',
    ]);
    const tf = new nd.models.LanguageModel(8, 20, 32, { seqModel: 'transformer' });
    assertShape(tf.linear.weight, [20, 8]); // the Transformer's width is embeddingSize; hiddenSize is its feedforward size
    assert.ok(Object.keys(tf.stateDict()).includes('seq_model.encoder.layers.0.self_attn.in_proj_weight'));
  });

  test('errors', () => {
    const lm = new nd.models.LanguageModel(8, 20, 16, { seqModel: 'transformer', seqLen: 5 });
    assertThrows(() => lm.forward(nd.randint(0, 20, [6, 2])), RangeError, /LanguageModel: a sequence length of at most seqLen 5, got \[6,2\]/);
    assertThrows(() => lm.forward(nd.zeros([3, 2])), TypeError, /LanguageModel: int32 token ids, got float32/);
    assertThrows(() => lm.forward(nd.randint(0, 20, [3])), RangeError, /LanguageModel: token ids of shape \(L, N\), got \[3\]/);
    assertThrows(() => new nd.models.LanguageModel(8, 20, 16, { seqModel: 'lstm', tieWeights: true }), RangeError, /LanguageModel: tieWeights with an output size equal to embeddingSize 8, got 16/);
    assertThrows(() => new nd.models.LanguageModel(8, 20, 16, { seqModel: 'cnn' as 'rnn' }), TypeError, /LanguageModel: seqModel "rnn", "lstm", "gru" or "transformer", got "cnn"/);
    assertThrows(() => new nd.models.LanguageModel(8, 0, 16), RangeError, /LanguageModel: outputSize to be a positive integer, got 0/);
    assertThrows(() => new nd.models.CausalTransformer(10, 16, 8, { nhead: 4 }), RangeError, /CausalTransformer: nhead dividing dModel 10, got 4/);
    const rnn = new nd.models.LanguageModel(8, 20, 16, { seqModel: 'lstm' });
    assertThrows(() => rnn.forward(nd.randint(0, 20, [3, 2]), nd.zeros([1, 2, 16])), TypeError, /LanguageModel: an LSTM state \[h, c\]/);
  });

  test('detachState', () => {
    const h = nd.randn([1, 2, 3], { requiresGrad: true }).mul(2);
    const d = nd.models.detachState([h, h]) as [nd.Tensor, nd.Tensor];
    assert.equal(d[0].requiresGrad, false);
    assert.equal((nd.models.detachState(h) as nd.Tensor).requiresGrad, false);
    assert.equal(nd.models.detachState(null), null);
  });

  test('the zoo tokenizer, vocabulary and unigram baseline', () => {
    assert.deepEqual(tokenize('Call me Ishmael. The whale’s—“Aye!” 1851'), ['call', 'me', 'ishmael', '.', 'the', 'whale', "'s", '—', '“', 'aye', '!', '”', '1851']);
    const dict = buildVocab(['b', 'a', 'b', 'c', 'b', 'a'], 3);
    assert.deepEqual(dict.idx2word, ['<unk>', 'b', 'a']);
    assert.deepEqual(encode(dict, ['a', 'c', 'b']), [2, 0, 1]);
    // uniform counts give perplexity V; add-one smoothing: (c + 1) / (N + V)
    assertClose(nd.tensor(unigramPerplexity([0, 1, 2, 3], [0, 1, 2, 3], 4)), nd.tensor(4));
    assertClose(nd.tensor(unigramPerplexity([0, 0], [1], 2)), nd.tensor(4));
  });
});

describe('TCN', () => {
  test('shapes, receptive field and causality', () => {
    nd.manualSeed(3);
    const tcn = new nd.models.TCN(2, 3, [8, 8, 8], { kernelSize: 3, dropout: 0.1 });
    assert.equal(tcn.receptiveField, 1 + 2 * 2 * 7);
    tcn.eval();
    const x = nd.randn([2, 2, 40]);
    const y = tcn.forward(x);
    assertShape(y, [2, 3, 40]);
    const x2 = nd.cat([x.get(':', ':', { stop: 25 }), nd.randn([2, 2, 15])], 2);
    const y2 = tcn.forward(x2);
    assertClose(y.get(':', ':', { stop: 25 }), y2.get(':', ':', { stop: 25 }), { atol: 1e-6 });
    assert.ok(nd.abs(nd.sub(y.get(':', ':', 25), y2.get(':', ':', 25))).max().item() > 1e-5);
    // the receptive field is exact: output 28 depends on input 0, output 29 does not
    tcn.train();
    const xi = nd.randn([1, 2, 40], { requiresGrad: true });
    tcn.forward(xi).get(':', ':', 28).sum().backward();
    assert.ok(nd.abs(xi.grad!.get(':', ':', 0)).sum().item() > 0);
    xi.grad = null;
    tcn.forward(xi).get(':', ':', 29).sum().backward();
    assert.equal(nd.abs(xi.grad!.get(':', ':', 0)).sum().item(), 0);
    const block = new nd.models.TemporalBlock(3, 5, 4, { kernelSize: 2 });
    assertShape(block.forward(nd.randn([1, 3, 9])), [1, 5, 9]);
    assert.ok(block.downsample !== null);
    assertThrows(() => tcn.forward(nd.randn([2, 3, 10])), RangeError, /TCN: input of shape \(N, 2, L\), got \[2,3,10\]/);
    assertThrows(() => new nd.models.TCN(2, 1, []), RangeError, /TCN: a non-empty list numChannels, got \[\]/);
  });

  test('the adding problem: a few dozen steps reduce the MSE', () => {
    nd.manualSeed(4);
    const rng = new Ints(5);
    const tcn = new nd.models.TCN(2, 1, [16, 16, 16], { kernelSize: 4 });
    const mse = new nd.nn.MSELoss();
    const [first, last] = trainLoss(tcn, 40, 5e-3, () => {
      const { x, y } = addingBatch(rng, 16, 30);
      return mse.forward(lastStep(tcn, x), y);
    });
    assert.ok(last < 0.5 * first && last < 0.2, `adding: mse ${first} -> ${last}`);
    const { x, y } = addingBatch(new Ints(6), 3, 10);
    const sums = x.get(':', 0).mul(x.get(':', 1)).sum(1);
    assertClose(sums, y);
    assertShape(x, [3, 2, 10]);
  });
});

describe('Seq2Seq', () => {
  test('teacher forcing: a few dozen steps reduce the loss; greedy decoding gives valid ids', () => {
    nd.manualSeed(7);
    const rng = new Ints(8);
    const model = new nd.models.Seq2Seq(10, 12, 16, 48);
    const lossFn = new nd.nn.CrossEntropyLoss();
    const [first, last] = trainLoss(model, 40, 1e-2, () => {
      const seqs = Array.from({ length: 32 }, () => Array.from({ length: 5 }, () => rng.below(10)));
      const { src, tgtIn, tgtOut } = reversalBatch(seqs);
      const logits = model.forward(src, tgtIn);
      assertShape(logits, [6, 32, 12]);
      return lossFn.forward(logits.reshape([-1, 12]), tgtOut.reshape([-1]));
    });
    assert.ok(last < 0.75 * first, `seq2seq: loss ${first} -> ${last}`);
    const src = nd.randint(0, 10, [5, 4]);
    const ids = model.greedyDecode(src, { bos: 10, maxLen: 7, eos: 11 });
    assert.equal(ids.dtype, 'int32');
    assertShape(ids, [7, 4]);
    const cols = ids.toArray() as number[][];
    for (let n = 0; n < 4; n++) {
      const seq = cols.map((r) => r[n]!);
      assert.ok(seq.every((t) => t >= 0 && t < 12));
      const e = seq.indexOf(11);
      if (e >= 0) assert.ok(seq.slice(e).every((t) => t === 11), 'after eos only eos');
    }
    const [acc, exact] = evaluateReversal(model, [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]]);
    assert.ok(acc >= 0 && acc <= 1 && exact >= 0 && exact <= 1);
    assertThrows(() => model.greedyDecode(src, { bos: 12, maxLen: 3 }), RangeError, /Seq2Seq.greedyDecode: bos in \[0, 11\], got 12/);
    assertThrows(() => model.forward(src, nd.randint(0, 12, [3, 5])), RangeError, /Seq2Seq: tgtIn with the batch size of src 4, got \[3,5\]/);
  });
});

describe('BiLSTMTagger', () => {
  test('a few dozen steps reduce the loss; only the bidirectional tagger sees the future', () => {
    nd.manualSeed(9);
    const rng = new Ints(10);
    const tagger = new nd.models.BiLSTMTagger(10, 4, 8, 24);
    const lossFn = new nd.nn.CrossEntropyLoss();
    const [first, last] = trainLoss(tagger, 40, 1e-2, () => {
      const seqs = Array.from({ length: 32 }, () => Array.from({ length: 8 }, () => rng.below(10)));
      const logits = tagger.forward(nd.tensor(seqs, { dtype: 'int32' }).transpose(0, 1).contiguous());
      assertShape(logits, [8, 32, 4]);
      return lossFn.forward(logits.reshape([-1, 4]), nd.tensor(seqs.map(occurrenceTags), { dtype: 'int32' }).transpose(0, 1).contiguous().reshape([-1]));
    });
    assert.ok(last < 0.8 * first, `tagger: loss ${first} -> ${last}`);
    const a = nd.randint(0, 10, [6, 2]);
    const b = nd.tensor((a.toArray() as number[][]).map((r, t) => (t < 3 ? r : r.map((v) => (v + 1) % 10))), { dtype: 'int32' });
    const uni = new nd.models.BiLSTMTagger(10, 4, 8, 12, { bidirectional: false });
    assertClose(uni.forward(a).get({ stop: 3 }), uni.forward(b).get({ stop: 3 }), { atol: 1e-6 });
    assert.ok(nd.abs(nd.sub(tagger.forward(a).get(0), tagger.forward(b).get(0))).max().item() > 1e-6);
    assert.deepEqual(occurrenceTags([1, 2, 1, 3, 1]), [1, 0, 3, 0, 2]);
    assert.ok(Math.abs(leftToRightCeiling(2, 2) - 0.75) < 1e-12);
  });
});
