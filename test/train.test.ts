/** nd.train: metrics, progress bar, trainEpoch / evaluate / fit, callbacks, checkpoints, inference. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as nd from '../src/index.js';
import { assertClose } from './helpers.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'needle-train-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------ helpers

/** A captured output stream. */
function capture(isTTY = false, columns = 100): nd.train.OutputStream & { text: string } {
  const s = {
    text: '',
    isTTY,
    columns,
    write(t: string) {
      s.text += t;
    },
  };
  return s;
}

/** A linearly separable 3-class problem: x (n, 8), y = argmax(x W). */
function toyData(n: number, seed = 0): { x: nd.Tensor; y: nd.Tensor } {
  const g = new nd.Generator(seed);
  const x = nd.randn([n, 8], { generator: g });
  const w = nd.randn([8, 3], { generator: g });
  return { x, y: x.matmul(w).argmax(1) };
}

function loaderOf(x: nd.Tensor, y: nd.Tensor, batchSize: number, shuffle = false): nd.utils.data.DataLoader<nd.Tensor[]> {
  return new nd.utils.data.DataLoader(new nd.utils.data.TensorDataset(x, y), { batchSize, shuffle });
}

function mlp(seed = 0): nd.nn.Sequential {
  nd.manualSeed(seed);
  return new nd.nn.Sequential(new nd.nn.Linear(8, 16), new nd.nn.ReLU(), new nd.nn.Linear(16, 3));
}

function stateBits(m: nd.nn.Module): number[] {
  return Object.values(m.stateDict()).flatMap((t) => Array.from(t.dataSync(), Number));
}

/** Minimal XML well-formedness check: one root, every tag closed in order, attributes quoted. */
function assertWellFormedXml(text: string): void {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const tagRe = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tagRe.exec(body); m; m = tagRe.exec(body)) {
    const between = body.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `stray markup before ${m[0]}: ${between.slice(0, 60)}`);
    last = tagRe.lastIndex;
    const [, close, name, , self] = m;
    if (close) {
      assert.equal(stack.pop(), name, `closing </${name}> does not match`);
    } else if (!self) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
  }
  assert.ok(!/[<>]/.test(body.slice(last)), 'stray markup at the end');
  assert.deepEqual(stack, [], 'unclosed tags');
  assert.equal(roots, 1, 'one root element');
}

/** Exposes the garbage collector (node --expose-gc, or V8's flag set at run time). */
function getGc(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------ metrics

describe('metrics', () => {
  test('accuracy, correctCount, perplexity, RunningMean, Throughput', () => {
    const out = nd.tensor([
      [0.1, 2, 0],
      [3, 0, 1],
      [0, 0, 5],
      [1, 0, 0],
    ]);
    const y = nd.tensor([1, 0, 2, 2], { dtype: 'int32' });
    assert.equal(nd.train.correctCount(out, y), 3);
    assert.equal(nd.train.accuracy(out, y), 0.75);
    // (N, T, C) with (N, T) targets
    assert.equal(nd.train.accuracy(out.reshape([2, 2, 3]), y.reshape([2, 2])), 0.75);
    assert.ok(Math.abs(nd.train.perplexity(Math.log(50)) - 50) < 1e-9);
    const m = new nd.train.RunningMean();
    assert.ok(Number.isNaN(m.value));
    m.add(0.5, 100);
    m.add(0.2, 50);
    assert.ok(Math.abs(m.value - 0.4) < 1e-12);
    const t = new nd.train.Throughput();
    t.add(10);
    assert.equal(t.samples, 10);
    assert.ok(t.perSecond >= 0);
  });

  test('accuracy rejects mismatched shapes with the error grammar', () => {
    assert.throws(() => nd.train.accuracy(nd.zeros([4, 3]), nd.zeros([5], { dtype: 'int32' })), /^RangeError: correctCount: output \(\.\.\., C\) and target .+, got \[4,3\] and \[5\]$/);
  });
});

// ------------------------------------------------------------------------------- progress bar

describe('ProgressBar', () => {
  test('on a TTY: redraws with carriage returns, shows percent, ETA and samples/s', () => {
    const s = capture(true, 120);
    const bar = new nd.train.ProgressBar({ total: 4, label: 'epoch 1/2', stream: s, minIntervalMs: 0 });
    bar.tick(1, { loss: 0.5 }, 100);
    bar.tick(1, { loss: 0.4 }, 100);
    assert.match(s.text, /\repoch 1\/2 \[#{15}-{15}\]  50% 2\/4 \d+:\d\d<\d+:\d\d \d+ samples\/s loss 0\.4000\x1b\[K$/);
    assert.ok(!s.text.includes('\n'));
    bar.done('epoch 1/2  loss 0.4');
    assert.ok(s.text.endsWith('\repoch 1/2  loss 0.4\x1b[K\n'));
    const line = bar.render();
    assert.ok(line.length <= 119, line);
  });

  test('elsewhere: silent until done, then one line', () => {
    const s = capture(false);
    const bar = new nd.train.ProgressBar({ total: 3, stream: s });
    bar.tick(3, { loss: 1 }, 30);
    assert.equal(s.text, '');
    bar.done('summary');
    assert.equal(s.text, 'summary\n');
  });

  test('formatDuration and an unknown total', () => {
    assert.equal(nd.train.formatDuration(0), '0:00');
    assert.equal(nd.train.formatDuration(75), '1:15');
    assert.equal(nd.train.formatDuration(3725), '1:02:05');
    assert.equal(nd.train.formatDuration(NaN), '--:--');
    const bar = new nd.train.ProgressBar({ total: NaN, stream: capture(true), minIntervalMs: 0 });
    bar.tick(5);
    assert.match(bar.render(), /^5 \d+:\d\d<--:--$/);
    // a narrow terminal drops the percentage and then values to keep a bar, then cuts the line
    const at = (columns: number) => {
      const b = new nd.train.ProgressBar({ total: 600, label: 'epoch  3/10', stream: capture(true, columns), minIntervalMs: 0 });
      b.tick(204, { loss: 0.3721, acc: '86.49%' }, 20400);
      return b.render().replace(/\d+ samples\/s/, 'R samples/s');
    };
    assert.match(at(120), /^epoch {2}3\/10 \[#{10}-{20}\]  34% 204\/600 \d:\d\d<\d:\d\d R samples\/s loss 0\.3721 acc 86\.49%$/);
    assert.match(at(80), /^epoch {2}3\/10 \[#+-+\] 204\/600 \d:\d\d<\d:\d\d R samples\/s loss 0\.3721$/);
    assert.ok(at(80).length <= 79);
    assert.ok(!at(40).includes('[') && at(40).length <= 39);
    assert.throws(() => new nd.train.ProgressBar({ total: -1 }), /^RangeError: ProgressBar: total to be a non-negative number/);
  });
});

// ---------------------------------------------------------------------------- loops and fit

describe('trainEpoch / evaluate / fit', () => {
  test('fit on a tiny problem reduces the loss and reaches high accuracy', async () => {
    const { x, y } = toyData(256);
    const model = mlp(1);
    const optimizer = new nd.optim.Adam(model.parameters(), { lr: 0.02 });
    const r = await nd.train.fit({ model, trainLoader: loaderOf(x, y, 32, true), valLoader: loaderOf(x, y, 128), loss: new nd.nn.CrossEntropyLoss(), optimizer, epochs: 8, progress: false });
    assert.equal(r.history.length, 8);
    const first = r.history[0]!;
    const last = r.history.at(-1)!;
    assert.ok(last.trainLoss < first.trainLoss * 0.5, `loss ${first.trainLoss} -> ${last.trainLoss}`);
    assert.ok(last.valAccuracy! > 0.9, `val accuracy ${last.valAccuracy}`);
    assert.equal(last.samples, 256);
    assert.ok(last.samplesPerSec > 0 && last.seconds > 0);
    assert.equal(last.lr, 0.02);
    assert.equal(r.stopReason, null);
    assert.deepEqual(r.best?.monitor, 'valLoss');
  });

  test('trainEpoch accepts arrays and async iterables; evaluate restores the mode and builds no graph', async () => {
    const { x, y } = toyData(64);
    const model = mlp(2);
    const optimizer = new nd.optim.SGD(model.parameters(), { lr: 0.1 });
    const batches = [nd.split(x, 16), nd.split(y, 16)];
    const pairs = batches[0]!.map((b, i) => [b, batches[1]![i]!] as const);
    const r1 = await nd.train.trainEpoch(model, pairs, { loss: new nd.nn.CrossEntropyLoss(), optimizer });
    assert.equal(r1.batches, 4);
    assert.equal(r1.batchLosses.length, 4);
    assert.ok(r1.accuracy !== undefined);
    async function* gen() {
      for (const p of pairs) yield p;
    }
    const r2 = await nd.train.trainEpoch(model, gen(), { loss: (o, t) => new nd.nn.CrossEntropyLoss().forward(o, t), optimizer, maxBatches: 2 });
    assert.equal(r2.batches, 2);
    model.train();
    const seen: boolean[] = [];
    const ev = await nd.train.evaluate(model, pairs, {
      loss: new nd.nn.CrossEntropyLoss(),
      forward: (m, b) => {
        seen.push(m.training, nd.isGradEnabled());
        return nd.train.defaultForward(m, b);
      },
    });
    assert.ok(seen.every((v) => v === false), 'eval mode and no grad inside evaluate');
    assert.equal(model.training, true, 'mode restored');
    assert.equal(ev.samples, 64);
    const noLoss = await nd.train.evaluate(model, pairs);
    assert.ok(Number.isNaN(noLoss.loss) && noLoss.accuracy !== undefined);
  });

  test('callbacks are called in order', async () => {
    const { x, y } = toyData(12);
    const model = mlp();
    const calls: string[] = [];
    const cb: nd.train.Callback = {
      onFitStart: () => void calls.push('fitStart'),
      onEpochStart: (e) => void calls.push(`epochStart${e}`),
      onBatchStart: (i) => void calls.push(`batchStart${i}`),
      onBatchEnd: async (info) => {
        await Promise.resolve();
        calls.push(`batchEnd${info.index}/${info.total}`);
      },
      onEpochEnd: (log) => void calls.push(`epochEnd${log.epoch}:${log.valLoss !== undefined}`),
      onFitEnd: (r) => void calls.push(`fitEnd${r.history.length}`),
    };
    await nd.train.fit({ model, trainLoader: loaderOf(x, y, 6), valLoader: loaderOf(x, y, 12), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0.1 }), epochs: 2, callbacks: [cb, new nd.train.LambdaCallback({ onEpochEnd: () => void calls.push('second') })], progress: false });
    assert.deepEqual(calls, [
      'fitStart',
      'epochStart1', 'batchStart0', 'batchEnd0/2', 'batchStart1', 'batchEnd1/2', 'epochEnd1:true', 'second',
      'epochStart2', 'batchStart0', 'batchEnd0/2', 'batchStart1', 'batchEnd1/2', 'epochEnd2:true', 'second',
      'fitEnd2',
    ]);
  });

  test('ctx.stop() in a batch hook ends training after that batch', async () => {
    const { x, y } = toyData(40);
    const model = mlp();
    let batches = 0;
    const r = await nd.train.fit({
      model, trainLoader: loaderOf(x, y, 4), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0.1 }), epochs: 5, progress: false,
      callbacks: [{ onBatchEnd: (info, ctx) => { batches++; if (info.index === 2) ctx.stop('enough'); } }],
    });
    assert.equal(batches, 3);
    assert.equal(r.history.length, 1);
    assert.equal(r.stopReason, 'enough');
  });

  test('early stopping stops when the monitored value stops improving', async () => {
    const { x, y } = toyData(32);
    const model = mlp();
    // lr 0: the loss never improves after the first epoch
    const es = new nd.train.EarlyStopping({ monitor: 'trainLoss', patience: 2 });
    const out = capture();
    const r = await nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0 }), epochs: 20, callbacks: [es], progress: out });
    assert.equal(r.history.length, 3);
    assert.match(r.stopReason ?? '', /^early stopping: trainLoss did not improve for 2 epochs \(best .+ at epoch 1\)$/);
    assert.equal(es.stoppedEpoch, 3);
    assert.match(out.text, /early stopping/);
    // a missing monitor names itself
    const bad = new nd.train.EarlyStopping({ patience: 1 });
    await assert.rejects(
      nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0 }), epochs: 2, callbacks: [bad], progress: false }),
      /^RangeError: EarlyStopping: monitor "valLoss" in the epoch log \(pass a valLoader to fit\), got fields epoch, lr, trainLoss/,
    );
  });

  test('early stopping with restoreBestWeights loads the best epoch back', async () => {
    const { x, y } = toyData(32);
    const model = mlp(3);
    let bestBits: number[] = [];
    const es = new nd.train.EarlyStopping({ monitor: 'valLoss', patience: 1, restoreBestWeights: true });
    // the lr grows 4x each epoch, so the validation loss soon gets worse
    const opt = new nd.optim.SGD(model.parameters(), { lr: 0.05 });
    const r = await nd.train.fit({
      model, trainLoader: loaderOf(x, y, 8), valLoader: loaderOf(x, y, 32), loss: new nd.nn.CrossEntropyLoss(), optimizer: opt, epochs: 30, progress: false,
      callbacks: [es, { onEpochEnd: (log) => { if (es.bestEpoch === log.epoch) bestBits = stateBits(model); opt.paramGroups[0]!.lr *= 4; } }],
    });
    assert.ok(es.stoppedEpoch > es.bestEpoch && es.bestEpoch > 0, `stopped at ${es.stoppedEpoch}, best ${es.bestEpoch}`);
    assert.equal(r.history.length, es.stoppedEpoch);
    assert.deepEqual(stateBits(model), bestBits, 'the best epoch\'s weights are back');
  });

  test('gradient clipping is applied before the step', async () => {
    const { x, y } = toyData(16);
    const run = async (clip?: number) => {
      const model = mlp(5);
      const before = stateBits(model);
      const norms: number[] = [];
      await nd.train.trainEpoch(model, loaderOf(x, y, 16), {
        loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 1 }),
        ...(clip !== undefined ? { clipGradNorm: clip } : {}),
        onBatchEnd: (info) => { if (info.gradNorm !== undefined) norms.push(info.gradNorm); },
      });
      const after = stateBits(model);
      const change = Math.sqrt(after.reduce((a, v, i) => a + (v - before[i]!) ** 2, 0));
      return { change, norms };
    };
    const free = await run();
    const clipped = await run(1e-3);
    assert.ok(free.change > 0.01, `unclipped update ${free.change}`);
    assert.ok(clipped.change <= 1e-3 * 1.001, `clipped update ${clipped.change}`);
    assert.equal(clipped.norms.length, 1);
    assert.ok(Math.abs(clipped.norms[0]! - free.change) < 1e-4 * Math.max(1, free.change), 'reported norm is the pre-clip norm (= the SGD lr-1 step)');
  });

  test('fit validates its options with the error grammar', async () => {
    const model = mlp();
    const { x, y } = toyData(8);
    const base = { model, trainLoader: loaderOf(x, y, 4), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0.1 }), progress: false as const };
    await assert.rejects(nd.train.fit({ ...base, epochs: 1.5 }), /^RangeError: fit: epochs to be a non-negative integer, got 1\.5$/);
    await assert.rejects(nd.train.fit({ ...base, epochs: 1, trainLoader: 5 as never }), /^TypeError: fit: trainLoader to be an iterable of batches .+, got 5$/);
    await assert.rejects(nd.train.trainEpoch(model, [[x]] as never, { loss: new nd.nn.CrossEntropyLoss(), optimizer: base.optimizer }), /^TypeError: trainEpoch: batch 0 to be \[input, target\] Tensors, got/);
    await assert.rejects(nd.train.trainEpoch(model, [], { loss: new nd.nn.CrossEntropyLoss(), optimizer: base.optimizer, clipGradNorm: 0 }), /^RangeError: trainEpoch: clipGradNorm to be a positive number, got 0$/);
  });

  test('a scheduler is stepped per epoch (ReduceLROnPlateau gets the monitored value) or per batch', async () => {
    const { x, y } = toyData(16);
    const model = mlp();
    const opt = new nd.optim.SGD(model.parameters(), { lr: 1 });
    const r = await nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), loss: new nd.nn.CrossEntropyLoss(), optimizer: opt, scheduler: new nd.optim.StepLR(opt, 1, { gamma: 0.5 }), epochs: 3, progress: false });
    assert.deepEqual(r.history.map((h) => h.lr), [1, 0.5, 0.25]);
    const opt2 = new nd.optim.SGD(model.parameters(), { lr: 1 });
    await nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), loss: new nd.nn.CrossEntropyLoss(), optimizer: opt2, scheduler: new nd.optim.StepLR(opt2, 1, { gamma: 0.5 }), schedulerInterval: 'batch', epochs: 1, progress: false });
    assert.equal(opt2.paramGroups[0]!.lr, 0.25);
    // an optimizer of an unrelated parameter: the loss stays flat, so the plateau halves the lr
    const opt3 = new nd.optim.SGD([nd.zeros([1]).requiresGrad_()], { lr: 1 });
    const plateau = new nd.optim.ReduceLROnPlateau(opt3, { patience: 0, factor: 0.5 });
    const r3 = await nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), loss: new nd.nn.CrossEntropyLoss(), optimizer: opt3, scheduler: plateau, epochs: 3, progress: false });
    assert.deepEqual(r3.history.map((h) => h.lr), [1, 1, 0.5]);
    assert.equal(opt3.paramGroups[0]!.lr, 0.25);
  });

  test('one line per epoch when not a TTY; a bar with carriage returns on a TTY', async () => {
    const { x, y } = toyData(16);
    const model = mlp();
    const plain = capture(false);
    await nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), valLoader: loaderOf(x, y, 16), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0.1 }), epochs: 2, progress: plain });
    const lines = plain.text.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^epoch 1\/2  loss \d\.\d{4}  acc \d+\.\d\d%  val_loss \d\.\d{4}  val_acc \d+\.\d\d%  lr 1\.00e-1  \d+ samples\/s  \d+:\d\d$/);
    assert.ok(!plain.text.includes('\r'));
    const tty = capture(true);
    await nd.train.fit({ model, trainLoader: loaderOf(x, y, 8), loss: new nd.nn.CrossEntropyLoss(), optimizer: new nd.optim.SGD(model.parameters(), { lr: 0.1 }), epochs: 1, progress: tty });
    assert.ok(tty.text.includes('\r'));
    assert.match(tty.text, /epoch 1\/1 \[/);
    assert.match(tty.text, /\r\x1b\[Kepoch 1\/1  loss [^\r]*\n$/);
  });
});

// ------------------------------------------------------------------ files, checkpoints, resume

describe('fit output files and resume', () => {
  /** A model with dropout and BatchNorm, shuffled batches and an LR schedule: everything random or stateful. */
  async function run(outDir: string, epochs: number, opts: { resume?: string; seed?: number } = {}) {
    nd.manualSeed(opts.seed ?? 7);
    const model = new nd.models.MLPResNet(8, 16, 1, 3, undefined, 0.3);
    const { x, y } = toyData(96, 11);
    const loader = loaderOf(x, y, 16, true);
    const optimizer = new nd.optim.Adam(model.parameters(), { lr: 0.01 });
    const scheduler = new nd.optim.StepLR(optimizer, 2, { gamma: 0.5 });
    const es = new nd.train.EarlyStopping({ monitor: 'valLoss', patience: 100 });
    const r = await nd.train.fit({
      model, trainLoader: loader, valLoader: loaderOf(x, y, 48), loss: new nd.nn.CrossEntropyLoss(), optimizer, scheduler, epochs,
      callbacks: [es], outDir, progress: false, meta: { model: 'toy', config: { hidden: 16 } },
      ...(opts.resume ? { resume: opts.resume } : {}),
    });
    return { model, r, es, rng: nd.defaultGenerator.getState() };
  }

  test('writes metrics.jsonl (one JSON object per epoch), plot.svg (well-formed) and checkpoints', async () => {
    const dir = join(tmp, 'files');
    const { r } = await run(dir, 3);
    const lines = (await readFile(join(dir, 'metrics.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, number>);
    assert.deepEqual(recs.map((rec) => rec['epoch']), [1, 2, 3]);
    for (const rec of recs) for (const k of ['lr', 'trainLoss', 'trainAccuracy', 'valLoss', 'valAccuracy', 'samples', 'samplesPerSec', 'seconds']) assert.equal(typeof rec[k], 'number', k);
    assert.deepEqual(Object.keys(recs[0]!).slice(0, 3), ['epoch', 'lr', 'trainLoss']);
    const svg = await readFile(join(dir, 'plot.svg'), 'utf8');
    assert.match(svg, /<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<polyline /);
    assert.match(svg, /Accuracy \(%\)/);
    assertWellFormedXml(svg);
    assert.equal(r.files.lastCheckpoint, join(dir, 'checkpoints', 'last.safetensors'));
    const header = await nd.readHeader(r.files.lastCheckpoint!);
    assert.equal(header.metadata?.['format'], nd.CHECKPOINT_FORMAT);
    assert.equal(header.metadata?.['epoch'], '3');
    assert.deepEqual((JSON.parse(header.metadata!['extra']!) as { meta: unknown }).meta, { model: 'toy', config: { hidden: 16 } });
    assert.ok(r.files.bestCheckpoint);
  });

  test('checkpoint + resume continues exactly like an uninterrupted run', async () => {
    const full = await run(join(tmp, 'full'), 5);
    const half = join(tmp, 'half');
    await run(half, 2);
    // a different seed: everything must come from the checkpoint
    const resumed = await run(half, 5, { resume: join(half, 'checkpoints', 'last.safetensors'), seed: 99 });
    assert.equal(resumed.r.history.length, 5);
    assert.deepEqual(resumed.r.history.map((h) => [h.epoch, h.lr, h.trainLoss, h.valLoss]), full.r.history.map((h) => [h.epoch, h.lr, h.trainLoss, h.valLoss]));
    assert.deepEqual(stateBits(resumed.model), stateBits(full.model));
    assert.deepEqual(resumed.es.stateDict(), full.es.stateDict());
    assert.deepEqual(resumed.rng, full.rng, 'the random stream continues where it was');
    const lines = (await readFile(join(half, 'metrics.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch), [1, 2, 3, 4, 5]);
  });

  test('plotHistory is well-formed for empty, one-epoch and perplexity histories', () => {
    assertWellFormedXml(nd.train.plotHistory([]));
    const one = nd.train.plotHistory([{ epoch: 1, trainLoss: 1, samples: 1, samplesPerSec: 1, seconds: 1 }], { title: 'a < b & "c"' });
    assertWellFormedXml(one);
    assert.match(one, /a &lt; b &amp; &quot;c&quot;/);
    const ppl = nd.train.plotHistory([
      { epoch: 1, trainLoss: 2, trainPerplexity: 7.4, valPerplexity: 8, samples: 1, samplesPerSec: 1, seconds: 1 },
      { epoch: 2, trainLoss: NaN, trainPerplexity: 5, samples: 1, samplesPerSec: 1, seconds: 1 },
    ]);
    assertWellFormedXml(ppl);
    assert.match(ppl, /Perplexity/);
    assert.deepEqual(nd.train.niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(nd.train.niceTicks(0.18, 1.25), [0.2, 0.4, 0.6, 0.8, 1, 1.2]);
    assert.deepEqual(nd.train.niceTicks(2.1, 2.3), [2.1, 2.15, 2.2, 2.25, 2.3]);
    assert.deepEqual(nd.train.niceTicks(84, 91.5), [84, 86, 88, 90]);
  });
});

// ------------------------------------------------------------------------------------ memory

describe('memory', () => {
  test('heap use stays flat over 5 epochs of fit', async () => {
    const gc = getGc();
    nd.manualSeed(0);
    const { x, y } = toyData(400, 3);
    const model = new nd.models.MLPResNet(8, 32, 2, 3);
    const optimizer = new nd.optim.Adam(model.parameters(), { lr: 1e-3 });
    const heap: number[] = [];
    const measure = () => {
      if (gc) {
        gc();
        gc();
      }
      heap.push(process.memoryUsage().heapUsed);
    };
    await nd.train.fit({
      model, trainLoader: loaderOf(x, y, 20, true), valLoader: loaderOf(x, y, 100), loss: new nd.nn.CrossEntropyLoss(), optimizer,
      epochs: gc ? 5 : 8, progress: false, callbacks: [{ onEpochEnd: () => measure() }],
    });
    // without a collector, compare after warm-up epochs with a wider margin
    // from the end of epoch 2: the optimizing compiler's code for the loop arrives during the
    // first epochs (a one-time step of ~1.5 MB, measured), which is not growth
    const [first, last] = gc ? [heap[1]!, heap[4]!] : [Math.min(...heap.slice(2, 4)), Math.min(...heap.slice(6))];
    const margin = gc ? 1.5e6 : 8e6;
    assert.ok(last <= first + margin, `heap grew from ${(first / 1e6).toFixed(2)} MB to ${(last / 1e6).toFixed(2)} MB: ${heap.map((h) => (h / 1e6).toFixed(2)).join(', ')}`);
  });
});

// --------------------------------------------------------------------------------- inference

describe('inference', () => {
  test('predict batches and concatenates; classify returns index, probability and label', () => {
    const model = mlp(4);
    const { x } = toyData(50);
    const whole = nd.noGrad(() => model.forward(x));
    model.train();
    const batched = nd.train.predict(model, x, { batchSize: 16 });
    assert.deepEqual(batched.shape, [50, 3]);
    // equal up to rounding: a matmul of 16 rows may block (or call the BLAS) differently from one of 50
    assertClose(batched, whole, { atol: 1e-6, rtol: 1e-6 });
    assert.equal(model.training, true);
    const cls = nd.train.classify(model, x, { labels: ['a', 'b', 'c'] });
    assert.equal(cls.length, 50);
    const argmax = whole.argmax(1).dataSync();
    cls.forEach((c, i) => {
      assert.equal(c.index, argmax[i]);
      assert.equal(c.label, ['a', 'b', 'c'][c.index]);
      assert.ok(c.prob > 1 / 3 - 1e-6 && c.prob <= 1);
    });
    assert.throws(() => nd.train.classify(model, x, { labels: ['a'] }), /^RangeError: classify: labels to be an array of 3 class names/);
    assert.throws(() => nd.train.predict(model, x, { batchSize: 0 }), /^RangeError: predict: batchSize to be a positive integer, got 0$/);
  });

  test('sampleLogits: greedy at temperature 0, only the top-k, frequencies follow the softmax', () => {
    const logits = [1, 3, 2, -1];
    assert.equal(nd.train.sampleLogits(logits, { temperature: 0 }), 1);
    const g = new nd.Generator(0);
    const counts = [0, 0, 0, 0];
    const n = 4000;
    for (let i = 0; i < n; i++) counts[nd.train.sampleLogits(logits, { topK: 2, generator: g })]!++;
    assert.equal(counts[0], 0);
    assert.equal(counts[3], 0);
    const p1 = Math.exp(3) / (Math.exp(3) + Math.exp(2));
    assert.ok(Math.abs(counts[1]! / n - p1) < 0.03, `frequency ${counts[1]! / n} vs ${p1}`);
    // lower temperature sharpens
    let hot = 0;
    for (let i = 0; i < 1000; i++) if (nd.train.sampleLogits(logits, { temperature: 0.2, generator: g }) === 1) hot++;
    assert.ok(hot > 990);
    assert.throws(() => nd.train.sampleLogits(logits, { topK: 0 }), /^RangeError: sampleLogits: topK to be a positive integer, got 0$/);
    assert.throws(() => nd.train.sampleLogits(logits, { temperature: -1 }), /^RangeError: sampleLogits: temperature to be a finite number >= 0, got -1$/);
  });

  test('generate extends a prompt autoregressively, reproducibly, with both layouts', () => {
    // a "language model" whose next token is always (current + 1) mod 5
    class Next extends nd.nn.Module {
      calls: number[][] = [];
      constructor(readonly batchFirst: boolean) {
        super();
      }
      forward(x: nd.Tensor): nd.Tensor {
        this.calls.push([...x.shape]);
        const ids = Array.from(x.dataSync(), Number);
        return nd.tensor(ids.map((t) => Array.from({ length: 5 }, (_, k) => (k === (t + 1) % 5 ? 10 : 0))), { shape: this.batchFirst ? [1, ids.length, 5] : [ids.length, 1, 5] });
      }
    }
    const m = new Next(true);
    assert.deepEqual(nd.train.generate(m, [0, 1], { maxNewTokens: 6, temperature: 0 }), [0, 1, 2, 3, 4, 0, 1, 2]);
    assert.deepEqual(m.calls[0], [1, 2]);
    const tf = new Next(false);
    const seen: number[] = [];
    const out = nd.train.generate(tf, [3], { maxNewTokens: 10, temperature: 0, contextLength: 2, batchFirst: false, stopToken: 1, onToken: (t) => seen.push(t) });
    assert.deepEqual(out, [3, 4, 0, 1]);
    assert.deepEqual(seen, [4, 0, 1]);
    assert.deepEqual(tf.calls.at(-1), [2, 1]);
    const a = nd.train.generate(m, [0], { maxNewTokens: 20, temperature: 5, generator: new nd.Generator(1) });
    const b = nd.train.generate(m, [0], { maxNewTokens: 20, temperature: 5, generator: new nd.Generator(1) });
    assert.deepEqual(a, b);
    assert.throws(() => nd.train.generate(m, []), /^TypeError: generate: prompt to be a non-empty array of token ids, got \[\]$/);
  });
});

test('docs/train.md mentions every export of nd.train', async () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const doc = await readFile(join(root, 'docs', 'train.md'), 'utf8');
  const missing = Object.keys(nd.train).filter((k) => !new RegExp(`\\b${k}\\b`).test(doc));
  assert.deepEqual(missing, [], `not in docs/train.md: ${missing.join(', ')}`);
});
