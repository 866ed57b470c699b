/**
 * nn layers, losses and models beyond PyTorch parity (test/fixtures/modules_layers.json and
 * modules_losses.json): error messages, the Module API on real layers, parameter counts, dropout
 * statistics, Embedding's padding gradient, penalties, seeding and edge values.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { assertClose, assertShape, assertThrows, flat } from './helpers.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as layers from '../src/nn/layers.js';
import * as losses from '../src/nn/loss.js';
import * as models from '../src/models/index.js';

const nn = nd.nn;
const F = nd.nn.functional;
const int = (data: nd.NestedArray) => nd.tensor(data, { dtype: 'int32' });

describe('layer errors name the layer and the shapes', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['LayerNorm size', () => new nn.LayerNorm(4).forward(nd.randn([2, 3])), /^LayerNorm: input of shape \(\*, 4\), got \[2,3\]$/],
    ['LayerNorm rank', () => new nn.LayerNorm([2, 3]).forward(nd.randn([3])), /^LayerNorm: input of shape \(\*, 2, 3\), got \[3\]$/],
    ['BatchNorm1d rank', () => new nn.BatchNorm1d(3).forward(nd.randn([3])), /^BatchNorm1d: input of shape \(N, 3\) or \(N, 3, L\), got \[3\]$/],
    ['BatchNorm1d size', () => new nn.BatchNorm1d(3).forward(nd.randn([4, 5])), /^BatchNorm1d: .*got \[4,5\]$/],
    ['BatchNorm2d rank', () => new nn.BatchNorm2d(3).forward(nd.randn([2, 3, 4])), /^BatchNorm2d: input of shape \(N, 3, H, W\), got \[2,3,4\]$/],
    ['BatchNorm2d size', () => new nn.BatchNorm2d(3).forward(nd.randn([2, 4, 4, 4])), /^BatchNorm2d: .*got \[2,4,4,4\]$/],
    ['BatchNorm1d one value', () => new nn.BatchNorm1d(3).forward(nd.randn([1, 3])), /^BatchNorm1d: more than 1 value per channel when training, got input of shape \[1,3\]$/],
    ['Conv1d rank', () => new nn.Conv1d(3, 4, 3).forward(nd.randn([3])), /^Conv1d: input of shape \(N, 3, L\) or \(3, L\), got \[3\]$/],
    ['Conv1d channels', () => new nn.Conv1d(3, 4, 3).forward(nd.randn([2, 2, 8])), /^Conv1d: .*got \[2,2,8\]$/],
    ['Conv1d too short', () => new nn.Conv1d(3, 4, 5).forward(nd.randn([1, 3, 2])), /^Conv1d: .*kernel size.*got 5/],
    ['Conv2d rank', () => new nn.Conv2d(3, 4, 3).forward(nd.randn([2, 3, 8])), /^Conv2d: input of shape \(N, 3, H, W\) or \(3, H, W\), got \[2,3,8\]$/],
    ['Conv2d channels', () => new nn.Conv2d(3, 4, 3).forward(nd.randn([1, 4, 8, 8])), /^Conv2d: .*got \[1,4,8,8\]$/],
    ['MaxPool1d rank', () => new nn.MaxPool1d(2).forward(nd.randn([2, 3, 4, 5])), /^MaxPool1d: input of shape \(N, C, L\) or \(C, L\), got \[2,3,4,5\]$/],
    ['MaxPool2d rank', () => new nn.MaxPool2d(2).forward(nd.randn([4, 5])), /^MaxPool2d: input of shape \(N, C, H, W\) or \(C, H, W\), got \[4,5\]$/],
    ['MaxPool2d too small', () => new nn.MaxPool2d(3).forward(nd.randn([1, 1, 2, 2])), /^MaxPool2d: /],
    ['AvgPool1d rank', () => new nn.AvgPool1d(2).forward(nd.randn([5])), /^AvgPool1d: .*got \[5\]$/],
    ['AvgPool2d rank', () => new nn.AvgPool2d(2).forward(nd.randn([1, 2, 3, 4, 5])), /^AvgPool2d: .*got \[1,2,3,4,5\]$/],
    ['AdaptiveAvgPool2d rank', () => new nn.AdaptiveAvgPool2d(2).forward(nd.randn([4, 4])), /^AdaptiveAvgPool2d: .*got \[4,4\]$/],
    ['Flatten dim', () => new nn.Flatten(3).forward(nd.randn([2, 3])), /^Flatten: dim must be in the range \[-2, 1\], got 3$/],
    ['Unflatten size', () => new nn.Unflatten(1, [2, 4]).forward(nd.randn([3, 6])), /^Unflatten: dim 1 of size prod\(\[2,4\]\), got input of shape \[3,6\]$/],
    ['Softmax dim', () => new nn.Softmax(2).forward(nd.randn([2, 3])), /^Softmax: dim must be in the range \[-2, 1\], got 2$/],
    ['LogSoftmax dim', () => new nn.LogSoftmax(-3).forward(nd.randn([2, 3])), /^LogSoftmax: dim must be in the range/],
    ['Residual shape', () => new nn.Residual(new nn.Linear(4, 3)).forward(nd.randn([2, 4])), /^Residual: fn\(x\) of the input's shape \[2,4\], got \[2,3\]$/],
    ['Embedding index', () => new nn.Embedding(5, 2).forward(int([1, 5])), /^Embedding: indices in \[0, 4\], got 5$/],
    ['Linear size', () => new nn.Linear(5, 2).forward(nd.randn([2, 3])), /^Linear: input of shape \(\*, 5\), got \[2,3\]$/],
  ];
  for (const [name, fn, re] of cases) test(name, () => assertThrows(fn, RangeError, re));

  test('type errors', () => {
    assertThrows(() => new nn.Embedding(5, 2).forward(nd.tensor([1, 2])), TypeError, /^Embedding: an int32 input of indices, got float32$/);
    assertThrows(() => new nn.ReLU().forward([1, 2] as never), TypeError, /^ReLU: input to be a Tensor, got an array$/);
    assertThrows(() => new nn.Dropout(0.5).forward(3 as never), TypeError, /^Dropout: input to be a Tensor/);
    assertThrows(() => new nn.GELU('fast' as never), TypeError, /^GELU: approximate of "none" or "tanh", got "fast"$/);
    assertThrows(() => new nn.Conv2d(3, 4, 3, { padding: 'full' as never }), TypeError, /^Conv2d: padding of 'same', 'valid'/);
    assertThrows(() => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 'same' }), TypeError, /^Conv2d: stride 1 with padding 'same'/);
    assertThrows(() => new nn.MaxPool2d(2, { ceilMode: true }), TypeError, /^MaxPool2d: ceilMode false/);
    assertThrows(() => new nn.CrossEntropyLoss({ reduction: 'avg' as never }), TypeError, /^CrossEntropyLoss: reduction of 'mean', 'sum' or 'none', got "avg"$/);
  });

  test('constructor range errors', () => {
    assertThrows(() => new nn.Dropout(1.5), RangeError, /^Dropout: a probability p in \[0, 1\], got 1.5$/);
    assertThrows(() => new nn.LayerNorm(0), RangeError, /^LayerNorm: normalizedShape to be a positive integer, got 0$/);
    assertThrows(() => new nn.BatchNorm1d(-1), RangeError, /^BatchNorm1d: numFeatures to be a positive integer, got -1$/);
    assertThrows(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), RangeError, /^Conv2d: inChannels and outChannels divisible by groups 2, got 3 and 4$/);
    assertThrows(() => new nn.Conv1d(3, 4, [3, 3]), RangeError, /^Conv1d: kernelSize with 1 entry/);
    assertThrows(() => new nn.Embedding(4, 2, { paddingIdx: 4 }), RangeError, /^Embedding: paddingIdx in \[-4, 3\], got 4$/);
    assertThrows(() => new nn.AdaptiveAvgPool2d([1, 2, 3]), RangeError, /^AdaptiveAvgPool2d: outputSize/);
    assertThrows(() => new nn.HuberLoss({ delta: 0 }), RangeError, /^HuberLoss: a positive delta, got 0$/);
  });

  test('loss errors name the loss', () => {
    const ce = new nn.CrossEntropyLoss();
    assertThrows(() => ce.forward(nd.randn([4, 5]), int([1, 2, 3])), RangeError, /^CrossEntropyLoss: a target of shape \[4\] for input of shape \[4,5\], got \[3\]$/);
    assertThrows(() => ce.forward(nd.randn([2, 5]), int([1, 7])), RangeError, /^CrossEntropyLoss: target values in \[0, 4\] or ignoreIndex -100, got 7$/);
    assertThrows(() => ce.forward(nd.randn([2, 5]), nd.rand([2, 4])), RangeError, /^CrossEntropyLoss: class-probability targets of the input's shape \[2,5\], got \[2,4\]$/);
    assertThrows(() => ce.forward(nd.randn([2, 5]), nd.tensor([true, false])), TypeError, /^CrossEntropyLoss: an int32 target/);
    assertThrows(() => new nn.CrossEntropyLoss({ weight: nd.ones([4]) }).forward(nd.randn([2, 5]), int([0, 1])), RangeError, /^CrossEntropyLoss: a weight of shape \[5\] \(one per class\), got \[4\]$/);
    assertThrows(() => new nn.NLLLoss().forward(nd.randn([2, 5]), nd.tensor([0, 1])), TypeError, /^NLLLoss: an int32 target of class indices, got float32$/);
    assertThrows(() => new nn.BCELoss().forward(nd.tensor([0.5, 1.5]), nd.tensor([0, 1])), RangeError, /^BCELoss: input values in \[0, 1\], got 1.5$/);
    assertThrows(() => new nn.BCELoss().forward(nd.rand([2, 3]), nd.rand([3])), RangeError, /^BCELoss: target of the input's shape \[2,3\], got \[3\]$/);
    assertThrows(() => new nn.BCEWithLogitsLoss({ posWeight: nd.ones([2]) }).forward(nd.randn([2, 3]), nd.rand([2, 3])), RangeError, /^BCEWithLogitsLoss: a posWeight of shape \[3\]/);
    assertThrows(() => new nn.MSELoss().forward(nd.randn([2, 3]), nd.randn([4])), RangeError, /^MSELoss: /);
    assertThrows(() => new nn.L1Loss().forward(int([1]), nd.randn([1])), TypeError, /^L1Loss: a floating-point input, got int32$/);
  });

  test('a failed forward leaves BatchNorm state intact', () => {
    const bn = new nn.BatchNorm1d(3);
    assert.throws(() => bn.forward(nd.randn([4, 2])));
    assert.throws(() => bn.forward(nd.randn([1, 3])));
    assert.equal(bn.numBatchesTracked!.item(), 0);
    assert.deepEqual(flat(bn.runningMean!), [0, 0, 0]);
  });
});

describe('Module API on layers', () => {
  const model = () => new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.ReLU(), new nn.Dropout(0.2), new nn.Linear(3, 2, { bias: false }));

  test('parameters, names, buffers, children, modules', () => {
    const m = model();
    assert.deepEqual(m.namedParameters().map(([k]) => k), ['0.weight', '0.bias', '1.weight', '1.bias', '4.weight']);
    assert.equal(m.parameters().length, 5);
    assert.deepEqual(m.namedBuffers().map(([k]) => k), ['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    assert.equal(m.buffers()[2]!.dtype, 'int32');
    assert.equal(m.children().length, 5);
    assert.equal(m.modules().length, 6);
    assert.deepEqual(m.namedModules().map(([k]) => k), ['', '0', '1', '2', '3', '4']);
    assert.equal(m.numParameters, 4 * 3 + 3 + 3 + 3 + 3 * 2);
    assert.deepEqual(Object.keys(m.stateDict()), ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '4.weight']);
    const bn = new nn.BatchNorm2d(2, { affine: false, trackRunningStats: false });
    assert.equal(bn.parameters().length, 0);
    assert.deepEqual(Object.keys(bn.stateDict()), []);
    const ln = new nn.LayerNorm([2, 3], { bias: false });
    assert.deepEqual(ln.namedParameters().map(([k, p]) => [k, [...p.shape]]), [['weight', [2, 3]]]);
    assert.equal(new nn.LayerNorm(4, { elementwiseAffine: false }).numParameters, 0);
    assert.deepEqual(Object.keys(new nn.CrossEntropyLoss({ weight: nd.ones([3]) }).stateDict()), ['weight']);
    assert.deepEqual(Object.keys(new nn.BCEWithLogitsLoss({ posWeight: nd.ones([3]) }).stateDict()), ['pos_weight']);
  });

  test('train/eval recurse; eval changes BatchNorm and Dropout', () => {
    const m = model();
    assert.ok(m.modules().every((c) => c.training));
    m.eval();
    assert.ok(m.modules().every((c) => !c.training));
    const x = nd.randn([5, 4]);
    assertClose(m.forward(x) as nd.Tensor, m.forward(x) as nd.Tensor, { atol: 0 });
    m.train();
    assert.ok(m.modules().every((c) => c.training));
  });

  test('zeroGrad and apply', () => {
    const m = model();
    const loss = nd.sum(m.forward(nd.randn([6, 4])) as nd.Tensor);
    loss.backward();
    assert.ok(m.parameters().every((p) => p.grad !== null));
    m.zeroGrad({ setToNone: false });
    assert.ok(m.parameters().every((p) => p.grad !== null && flat(p.grad).every((v) => v === 0)));
    m.zeroGrad();
    assert.ok(m.parameters().every((p) => p.grad === null));
    const seen: string[] = [];
    m.apply((c) => seen.push(c.constructor.name));
    assert.deepEqual(seen, ['Linear', 'BatchNorm1d', 'ReLU', 'Dropout', 'Linear', 'Sequential']);
  });

  test('stateDict round trip, strict and non-strict loading', () => {
    const a = model();
    a.forward(nd.randn([6, 4])); // moves the running stats
    const b = model();
    const res = b.loadStateDict(a.stateDict());
    assert.deepEqual(res, { missingKeys: [], unexpectedKeys: [] });
    for (const [k, v] of Object.entries(a.stateDict())) assertClose(b.stateDict()[k], v, { atol: 0, msg: k });
    assert.equal(b.stateDict()['1.num_batches_tracked']!.item(), 1);
    const partial = a.stateDict();
    delete partial['4.weight'];
    partial['extra.weight'] = nd.ones([1]);
    assertThrows(() => b.loadStateDict(partial), RangeError, /^loadStateDict: the keys of the module \(strict\), got missing \[4\.weight\], unexpected \[extra\.weight\]$/);
    assert.deepEqual(b.loadStateDict(partial, { strict: false }), { missingKeys: ['4.weight'], unexpectedKeys: ['extra.weight'] });
    const wrong = { ...a.stateDict(), '1.running_mean': nd.zeros([4]) };
    assertThrows(() => b.loadStateDict(wrong, { strict: false }), RangeError, /^loadStateDict: a tensor of shape \[3\] for key 1\.running_mean, got \[4\]$/);
    // a float num_batches_tracked (e.g. from int64 in a torch file) is converted to int32
    const c = new nn.BatchNorm1d(3);
    c.loadStateDict({ ...c.stateDict(), num_batches_tracked: nd.tensor(7, { dtype: 'float64' }) });
    assert.equal(c.numBatchesTracked!.dtype, 'int32');
    assert.equal(c.numBatchesTracked!.item(), 7);
  });

  test('toString shows the tree', () => {
    const s = model().toString();
    assert.match(s, /^Sequential\(\n {2}\(0\): Linear\(inFeatures=4, outFeatures=3, bias=true\)\n {2}\(1\): BatchNorm1d\(3, eps=0.00001, momentum=0.1/);
  });
});

describe('parameter counts and models', () => {
  test('ResNet9 has 431,946 parameters and maps 32x32 images to 10 logits', () => {
    const m = new nd.models.ResNet9({ generator: new nd.Generator(0) });
    assert.equal(m.numParameters, 431946);
    m.eval();
    assertShape(m.forward(nd.randn([1, 3, 32, 32])) as nd.Tensor, [1, 10]);
  });

  test('MLPResNet(784, 100, 3 blocks, 10) has 110,860 parameters', () => {
    // Linear(784,100) 78,500 + 3 x [Linear(100,50) 5,050 + BN(50) 100 + Linear(50,100) 5,100 + BN(100) 200] + Linear(100,10) 1,010
    const m = new nd.models.MLPResNet(784);
    assert.equal(m.numParameters, 78500 + 3 * (5050 + 100 + 5100 + 200) + 1010);
    assert.equal(m.numParameters, 110860);
    assertShape(m.forward(nd.randn([4, 784])) as nd.Tensor, [4, 10]);
    assert.equal(m.namedParameters()[2]![0], '2.0.fn.0.weight');
    assert.equal(new nd.models.MLPResNet(10, 8, 0, 2).length, 3);
  });

  test('layer parameter counts', () => {
    assert.equal(new nn.Conv2d(3, 16, 7).numParameters, 3 * 16 * 49 + 16);
    assert.equal(new nn.Conv2d(4, 8, 3, { groups: 2, bias: false }).numParameters, 8 * 2 * 9);
    assert.equal(new nn.Conv1d(3, 5, 4).numParameters, 3 * 5 * 4 + 5);
    assert.equal(new nn.Embedding(10, 4).numParameters, 40);
    assert.equal(new nn.BatchNorm2d(6).numParameters, 12);
    assert.equal(new nn.LayerNorm([3, 4]).numParameters, 24);
    assert.equal(new nn.ReLU().numParameters, 0);
  });

  test('seeded initialization is reproducible and within PyTorch bounds', () => {
    const a = new nn.Conv2d(4, 6, 3, { generator: new nd.Generator(42) });
    const b = new nn.Conv2d(4, 6, 3, { generator: new nd.Generator(42) });
    assertClose(a.weight, b.weight, { atol: 0 });
    const bound = 1 / Math.sqrt(4 * 9);
    assert.ok(flat(a.weight).every((v) => Math.abs(v) <= bound) && flat(a.bias!).every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...flat(a.weight).map(Math.abs)) > 0.8 * bound);
    nd.manualSeed(7);
    const e1 = flat(new nn.Embedding(5, 3).weight);
    nd.manualSeed(7);
    assert.deepEqual(flat(new nn.Embedding(5, 3).weight), e1);
    const r1 = flat(new nd.models.MLPResNet(6, 4, 1, 2, nn.BatchNorm1d, 0.1, { generator: new nd.Generator(3) }).parameters()[0]!);
    const r2 = flat(new nd.models.MLPResNet(6, 4, 1, 2, nn.BatchNorm1d, 0.1, { generator: new nd.Generator(3) }).parameters()[0]!);
    assert.deepEqual(r1, r2);
  });
});

describe('Dropout', () => {
  test('zeroes about p of the elements and keeps the mean', () => {
    const d = new nn.Dropout(0.3, { generator: new nd.Generator(1) });
    const y = flat(d.forward(nd.ones([200, 100])));
    const zeros = y.filter((v) => v === 0).length / y.length;
    assert.ok(Math.abs(zeros - 0.3) < 0.01, `zero fraction ${zeros}`);
    const kept = y.filter((v) => v !== 0);
    assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6));
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    assert.ok(Math.abs(mean - 1) < 0.02, `mean ${mean}`);
  });

  test('eval, p = 0 and p = 1; seeded masks repeat', () => {
    const x = nd.randn([4, 5]);
    const d = new nn.Dropout(0.5);
    d.eval();
    assert.equal(d.forward(x), x);
    assert.equal(new nn.Dropout(0).forward(x), x);
    assert.ok(flat(new nn.Dropout(1).forward(x)).every((v) => v === 0));
    const m1 = flat(new nn.Dropout(0.5, { generator: new nd.Generator(9) }).forward(nd.ones([50])));
    const m2 = flat(new nn.Dropout(0.5, { generator: new nd.Generator(9) }).forward(nd.ones([50])));
    assert.deepEqual(m1, m2);
  });

  test('gradient is the mask', () => {
    const x = nd.randn([10, 10]).requiresGrad_(true);
    const y = new nn.Dropout(0.4).forward(x);
    nd.sum(y).backward();
    const g = flat(x.grad);
    const yv = flat(y);
    const xv = flat(x);
    g.forEach((v, i) => assert.ok(Math.abs(v * xv[i]! - yv[i]!) < 1e-5));
  });
});

describe('Embedding', () => {
  test('the padding row starts at zero and gets no gradient', () => {
    const emb = new nn.Embedding(6, 3, { paddingIdx: 2 });
    assert.deepEqual(flat(emb.weight).slice(6, 9), [0, 0, 0]);
    const y = emb.forward(int([[2, 1, 2], [0, 2, 5]]));
    assertShape(y, [2, 3, 3]);
    nd.sum(nd.mul(y, nd.randn([2, 3, 3]))).backward();
    const g = flat(emb.weight.grad);
    assert.deepEqual(g.slice(6, 9), [0, 0, 0]);
    assert.ok(g.slice(3, 6).some((v) => v !== 0));
    assert.deepEqual(g.slice(9, 15), [0, 0, 0, 0, 0, 0]); // rows 3 and 4 unused
  });

  test('a non-zero padding row is returned as is (as PyTorch) but still gets no gradient', () => {
    const emb = new nn.Embedding(3, 2, { paddingIdx: -1 });
    assert.equal(emb.paddingIdx, 2);
    emb.loadStateDict({ weight: nd.tensor([[1, 2], [3, 4], [5, 6]]) });
    const y = emb.forward(int([2, 0]));
    assert.deepEqual(flat(y), [5, 6, 1, 2]);
    nd.sum(y).backward();
    assert.deepEqual(flat(emb.weight.grad), [1, 1, 0, 0, 0, 0]);
  });
});

describe('BatchNorm details', () => {
  test('running statistics use the unbiased variance; eval uses them', () => {
    const bn = new nn.BatchNorm1d(1, { momentum: 1 });
    bn.forward(nd.tensor([[1], [2], [3], [6]]));
    assertClose(bn.runningMean!, [3]);
    assertClose(bn.runningVar!, [14 / 3]); // unbiased: sum of squares 14 over n - 1 = 3
    bn.eval();
    assertClose(bn.forward(nd.tensor([[3]])), [0], { atol: 1e-6 });
    bn.resetRunningStats();
    assert.deepEqual([flat(bn.runningMean!), flat(bn.runningVar!), bn.numBatchesTracked!.item()], [[0], [1], 0]);
  });

  test('momentum null is the cumulative average', () => {
    const bn = new nn.BatchNorm1d(1, { momentum: null });
    bn.forward(nd.tensor([[1], [3]]));
    bn.forward(nd.tensor([[5], [7]]));
    assertClose(bn.runningMean!, [4]); // (2 + 6) / 2
    assert.equal(bn.numBatchesTracked!.item(), 2);
  });

  test('functional batchNorm and layerNorm equal the modules', () => {
    const x = nd.randn([5, 3, 2]);
    const bn = new nn.BatchNorm1d(3);
    const rm = nd.zeros([3]);
    const rv = nd.ones([3]);
    assertClose(F.batchNorm(x, rm, rv, bn.weight, bn.bias, { training: true }), bn.forward(x));
    assertClose(rm, bn.runningMean!);
    assertClose(rv, bn.runningVar!);
    const ln = new nn.LayerNorm([3, 2]);
    assertClose(F.layerNorm(x, [3, 2], ln.weight, ln.bias), ln.forward(x));
  });
});

describe('losses: edge values and helpers', () => {
  test('BCE clamps log at -100: p = 0 or 1 gives finite loss and gradient', () => {
    const p = nd.tensor([0, 1, 1, 0]).requiresGrad_(true);
    const t = nd.tensor([1, 0, 1, 0]);
    const l = new nn.BCELoss({ reduction: 'none' }).forward(p, t);
    assertClose(l, [100, 100, 0, 0], { atol: 0 });
    nd.sum(l).backward();
    assert.ok(flat(p.grad).every(Number.isFinite));
  });

  test('BCEWithLogits is stable for huge logits and exact at 0', () => {
    const x = nd.tensor([1e4, -1e4, 0]).requiresGrad_(true);
    const l = F.binaryCrossEntropyWithLogits(x, nd.tensor([0, 1, 1]), { reduction: 'none' });
    assertClose(l, [1e4, 1e4, Math.LN2], { rtol: 1e-6 });
    nd.sum(l).backward();
    assertClose(x.grad, [1, -1, -0.5]);
  });

  test('SoftmaxLoss is CrossEntropyLoss; all-ignored mean is NaN as PyTorch', () => {
    assert.equal(nn.SoftmaxLoss, nn.CrossEntropyLoss);
    const l = new nn.SoftmaxLoss().forward(nd.randn([2, 3]), int([-100, -100]));
    assert.ok(Number.isNaN(l.item()));
    assert.equal(new nn.CrossEntropyLoss({ reduction: 'sum' }).forward(nd.randn([2, 3]), int([-100, -100])).item(), 0);
  });

  test('crossEntropy with one-hot probabilities equals class indices', () => {
    const x = nd.randn([4, 5]);
    const t = int([0, 3, 4, 1]);
    assertClose(F.crossEntropy(x, nd.oneHot(t, 5, { dtype: 'float32' })), F.crossEntropy(x, t));
    assertClose(F.crossEntropy(x, t), F.nllLoss(nd.logSoftmax(x, 1), t));
  });

  test('penalties: sum |w| and sum w^2 over modules or tensor lists', () => {
    const a = nd.tensor([1, -2]);
    const b = nd.tensor([[3], [-4]]);
    assert.equal(F.l1Penalty([a, b]).item(), 10);
    assert.equal(F.l2Penalty([a, b]).item(), 30);
    assert.equal(nn.l2Penalty([]).item(), 0);
    const lin = new nn.Linear(2, 2);
    lin.loadStateDict({ weight: nd.tensor([[1, -1], [2, 0]]), bias: nd.tensor([0.5, -0.5]) });
    assert.equal(nn.l1Penalty(lin).item(), 5);
    const p = nd.tensor([1, -3]).requiresGrad_(true);
    nd.add(nn.l1Penalty([p]), nn.l2Penalty([p])).backward();
    assert.deepEqual(flat(p.grad), [3, -7]);
    assertThrows(() => nn.l1Penalty([1] as never), TypeError, /^l1Penalty: params\[0\] to be a Tensor, got number 1$/);
  });

  test('losses are differentiable twice (gradient penalty through LayerNorm and CE)', () => {
    const ln = new nn.LayerNorm(4, { dtype: 'float64' });
    const x = nd.randn([3, 4], { dtype: 'float64' }).requiresGrad_(true);
    const loss = F.crossEntropy(ln.forward(x), int([0, 1, 3]));
    const [gx] = nd.autograd.grad(loss, [x], { createGraph: true });
    const pen = nd.sum(nd.mul(gx!, gx!));
    const [gw] = nd.autograd.grad(pen, [ln.weight!]);
    assert.ok(flat(gw).every(Number.isFinite) && flat(gw).some((v) => v !== 0));
  });
});

describe('functional forms and a short training run', () => {
  test('linear and embedding equal the modules', () => {
    const lin = new nn.Linear(3, 2);
    const x = nd.randn([4, 3]);
    assertClose(F.linear(x, lin.weight, lin.bias), lin.forward(x));
    assertClose(F.linear(x, lin.weight), nd.sub(lin.forward(x), lin.bias!));
    assertThrows(() => F.linear(x, nd.randn([2, 4])), RangeError, /^linear: input of shape \(\*, 4\), got \[4,3\]$/);
    const emb = new nn.Embedding(4, 2);
    const idx = int([[3, 0], [1, 1]]);
    assertClose(F.embedding(idx, emb.weight), emb.forward(idx));
  });

  test('MLPResNet fits a small batch with plain gradient descent', () => {
    const g = new nd.Generator(5);
    const model = new nd.models.MLPResNet(6, 16, 2, 3, nn.BatchNorm1d, 0.1, { generator: g });
    const x = nd.randn([24, 6], { generator: g });
    const y = nd.argmax(nd.matmul(x, nd.randn([6, 3], { generator: g })), 1);
    const lossFn = new nn.SoftmaxLoss();
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      model.zeroGrad();
      const loss = lossFn.forward(model.forward(x) as nd.Tensor, y);
      loss.backward();
      losses.push(loss.item());
      nd.noGrad(() => {
        for (const p of model.parameters()) p.array = nd.sub(p, nd.mul(p.grad!, 0.1)).array;
      });
    }
    assert.ok(losses[29]! < 0.5 * losses[0]!, `loss ${losses[0]} -> ${losses[29]}`);
  });
});

describe('activations and shape layers', () => {
  test('Flatten/Unflatten round trip and AdaptiveAvgPool2d(1) is the global mean', () => {
    const x = nd.randn([2, 3, 4, 5]);
    const f = new nn.Flatten().forward(x);
    assertShape(f, [2, 60]);
    assertClose(new nn.Unflatten(1, [3, 4, 5]).forward(f), x, { atol: 0 });
    assertClose(new nn.AdaptiveAvgPool2d(1).forward(x), nd.mean(x, [2, 3], true));
    assertClose(new nn.AdaptiveAvgPool2d([4, 5]).forward(x), x);
  });

  test('pooling accepts a positional stride', () => {
    const x = nd.randn([1, 1, 6, 6]);
    assertClose(new nn.MaxPool2d(3, 1).forward(x), new nn.MaxPool2d(3, { stride: 1 }).forward(x));
    assertShape(new nn.AvgPool2d(2, [2, 1]).forward(x), [1, 1, 3, 5]);
  });
});

describe('docs/nn-layers.md', () => {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'nn-layers.md'), 'utf8');
  const sections = doc.split(/^### /m).slice(1);

  test('every layer, loss and model class has a section with a Shape line and an example', () => {
    const classes = Object.entries({ ...layers, ...losses, ...models })
      .filter(([, v]) => typeof v === 'function' && /^class /.test(String(v)))
      .map(([k]) => k)
      .filter((k) => k !== 'SoftmaxLoss');
    for (const name of classes) {
      const sec = sections.find((s) => s.split('\n')[0]!.split(' ')[0] === name);
      assert.ok(sec, `no section for ${name}`);
      assert.match(sec, /^Shape: /m, `${name}: Shape line`);
      assert.match(sec, /```js\n/, `${name}: example`);
    }
  });

  test('every example runs', () => {
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 30);
    nd.manualSeed(0);
    for (const code of blocks) {
      try {
        new Function('nd', code)(nd);
      } catch (e) {
        assert.fail(`example failed: ${(e as Error).message}\n${code}`);
      }
    }
  });
});
