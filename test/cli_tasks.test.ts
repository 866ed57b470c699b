/**
 * The synthetic sequence tasks (src/data/synthetic.ts, nd.datasets) and the CLI models that train
 * on them or without an optimizer: tcn, seq2seq, bilstm-tagger, newton-logistic. Tiny runs
 * (--limit, a few epochs of a few steps) whose loss must drop, eval / sample on their
 * checkpoints, --resume, and the usage errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nd from '../src/index.js';
import { LengthGroupedBatchSampler, loadSequenceData } from '../src/cli/data.js';
import { assertThrows } from './helpers.js';
import { cli, type Run } from './cli_helpers.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'needle-cli-tasks-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});


/** The training losses of metrics.jsonl, one per epoch. */
async function trainLosses(out: string): Promise<number[]> {
  const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trimEnd().split('\n');
  return lines.map((l) => (JSON.parse(l) as { trainLoss: number }).trainLoss);
}

/** The line of `out` that matches `re`. */
function lineOf(out: string, re: RegExp): string {
  const line = out.split('\n').find((l) => re.test(l));
  assert.ok(line, `no line matching ${re} in:\n${out}`);
  return line;
}

// the reference backend: fast for these small models, and the same numbers in train and eval
const DEVICE = ['--device', 'cpu'];

describe('nd.datasets synthetic sequence tasks', () => {
  test('addingProblem: shapes, dtypes, two markers, target = sum of the marked values', () => {
    const { x, y } = nd.datasets.addingProblem(6, 20, new nd.Generator(3));
    assert.deepEqual(x.shape, [6, 2, 20]);
    assert.deepEqual(y.shape, [6]);
    assert.equal(x.dtype, 'float32');
    assert.equal(y.dtype, 'float32');
    const xs = x.toArray() as number[][][];
    const ys = y.toArray() as number[];
    for (let n = 0; n < 6; n++) {
      const [vals, marks] = xs[n]!;
      assert.ok(vals!.every((v) => v >= 0 && v < 1));
      const at = marks!.flatMap((m, t) => (m === 1 ? [t] : []));
      assert.equal(at.length, 2, 'two distinct marked positions');
      assert.ok(marks!.every((m) => m === 0 || m === 1));
      assert.equal(ys[n], Math.fround(vals![at[0]!]! + vals![at[1]!]!));
    }
  });

  test('determinism: the same seed gives the same data, a prefix for a smaller n', () => {
    const a = nd.datasets.addingProblem(5, 12, new nd.Generator(9));
    const b = nd.datasets.addingProblem(5, 12, new nd.Generator(9));
    const c = nd.datasets.addingProblem(3, 12, new nd.Generator(9));
    const d = nd.datasets.addingProblem(5, 12, new nd.Generator(10));
    assert.deepEqual(a.x.toArray(), b.x.toArray());
    assert.deepEqual(a.y.toArray(), b.y.toArray());
    assert.deepEqual((a.x.toArray() as unknown[]).slice(0, 3), c.x.toArray());
    assert.notDeepEqual(a.x.toArray(), d.x.toArray());
    const s1 = nd.datasets.reversalStrings(50, 5, 10, new nd.Generator(1));
    assert.deepEqual(nd.datasets.reversalStrings(50, 5, 10, new nd.Generator(1)), s1);
    assert.notDeepEqual(nd.datasets.reversalStrings(50, 5, 10, new nd.Generator(2)), s1);
    const t1 = nd.datasets.occurrenceTagging(8, 12, 10, new nd.Generator(4));
    assert.deepEqual(nd.datasets.occurrenceTagging(8, 12, 10, new nd.Generator(4)).seqs, t1.seqs);
    // the CLI's test sets are the zoo scripts' (own generators, seed 1000, whatever --seed)
    assert.deepEqual(loadSequenceData('t', 'digit-reversal', 20).test.strings, nd.datasets.reversalStrings(20, 5, 10, new nd.Generator(1000)));
  });

  test('reversal strings and batches: lengths 5-10, digits, reversed targets with start and end tokens', () => {
    const strings = nd.datasets.reversalStrings(300, 5, 10, new nd.Generator(0));
    const lengths = new Set(strings.map((s) => s.length));
    assert.deepEqual([...lengths].sort((a, b) => a - b), [5, 6, 7, 8, 9, 10]);
    assert.ok(strings.every((s) => s.every((d) => Number.isInteger(d) && d >= 0 && d <= 9)));
    const seqFirst = nd.datasets.reversalBatch([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(seqFirst.src.toArray(), [[1, 4], [2, 5], [3, 6]]);
    assert.deepEqual(seqFirst.tgtIn.toArray(), [[10, 10], [3, 6], [2, 5], [1, 4]]);
    assert.deepEqual(seqFirst.tgtOut.toArray(), [[3, 6], [2, 5], [1, 4], [11, 11]]);
    assert.equal(seqFirst.src.dtype, 'int32');
    const bf = nd.datasets.reversalBatch([[7, 0, 9, 1, 2]], { batchFirst: true });
    assert.deepEqual(bf.src.toArray(), [[7, 0, 9, 1, 2]]);
    assert.deepEqual(bf.tgtOut.toArray(), [[2, 1, 9, 0, 7, nd.datasets.REVERSAL_EOS]]);
    assert.deepEqual(bf.tgtIn.toArray(), [[nd.datasets.REVERSAL_BOS, 2, 1, 9, 0, 7]]);
    assertThrows(() => nd.datasets.reversalBatch([[1, 2], [1, 2, 3]]), RangeError, /^reversalBatch: strings of one length 2, got length 3 at index 1$/);
    assertThrows(() => nd.datasets.addingProblem(-1, 10), RangeError, /^addingProblem: n to be an integer >= 0, got -1$/);
    assertThrows(() => nd.datasets.randomStrings(2, 3, 4, {} as nd.Generator), TypeError, /randomStrings: generator an nd.Generator/);
  });

  test('occurrence tags: a hand example, and tensors that match the strings', () => {
    assert.deepEqual(nd.datasets.occurrenceTags([1, 2, 1, 3, 1]), [1, 0, 3, 0, 2]);
    assert.deepEqual(nd.datasets.occurrenceTags([4, 4]), [1, 2]);
    assert.deepEqual(nd.datasets.occurrenceTags([0, 1, 2]), [0, 0, 0]);
    const { x, y, seqs } = nd.datasets.occurrenceTagging(7, 12, 10, new nd.Generator(2), { batchFirst: true });
    assert.deepEqual(x.shape, [7, 12]);
    assert.deepEqual(y.shape, [7, 12]);
    assert.equal(x.dtype, 'int32');
    assert.equal(y.dtype, 'int32');
    assert.deepEqual(x.toArray(), seqs);
    assert.deepEqual(y.toArray(), seqs.map((s) => nd.datasets.occurrenceTags(s)));
    const sf = nd.datasets.occurrenceTagging(7, 12, 10, new nd.Generator(2));
    assert.deepEqual(sf.x.shape, [12, 7]);
    assert.deepEqual(sf.x.transpose(0, 1).toArray(), seqs);
  });

  test('LengthGroupedBatchSampler: one length per batch, every index once, a new seeded order each epoch', () => {
    const lengths = nd.datasets.reversalStrings(100, 5, 10, new nd.Generator(0)).map((s) => s.length);
    const s = new LengthGroupedBatchSampler(lengths, 8, true, new nd.Generator(5));
    const epoch1 = [...s];
    const epoch2 = [...s];
    assert.equal(epoch1.length, s.length);
    for (const e of [epoch1, epoch2]) {
      assert.deepEqual(e.flat().sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
      for (const b of e) {
        assert.ok(b.length >= 1 && b.length <= 8);
        assert.equal(new Set(b.map((i) => lengths[i])).size, 1);
      }
    }
    assert.notDeepEqual(epoch1, epoch2);
    assert.deepEqual([...new LengthGroupedBatchSampler(lengths, 8, true, new nd.Generator(5))], epoch1);
  });
});

describe('sequence models in the CLI', () => {
  test('tcn: trains on the adding problem, eval and sample report MSE against predicting 1', async () => {
    const out = join(tmp, 'tcn');
    const r = await cli('train', 'tcn', '--limit', '128', '--batch-size', '16', '--epochs', '3', '--out', out, '--no-progress', ...DEVICE);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {2}data +adding \(generated, seeds 1 \/ 1000\): 128 train \/ 128 test sequences of length 100; validation on the test split$/m);
    assert.match(r.out, /^ {2}model +TCN, 24,769 parameters$/m);
    assert.match(r.out, /cosine schedule per step to lr\/20, batch 16, 3 epochs \(8 steps each\), gradient norm clipped at 1/);
    const losses = await trainLosses(out);
    assert.ok(losses[2]! < losses[0]!, `loss drops: ${losses}`);
    const metric = lineOf(r.out, /^test MSE /);
    assert.match(metric, /^test MSE \d\.\d+ vs 0\.\d+ for always predicting 1 \(baseline \/ MSE = \d+\.\d; 128 sequences\)$/);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { test: { mse: number; baselineMse: number; loss: number }; epochs: number };
    assert.equal(summary.epochs, 3);
    assert.ok(Math.abs(summary.test.mse - summary.test.loss) < 1e-6);

    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const ev = await cli('eval', ckpt, '--limit', '128', ...DEVICE);
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.out, /tcn \(24,769 parameters\), epoch 3, trained on adding/);
    assert.equal(lineOf(ev.out, /^test MSE /), metric, 'eval prints the metric train printed');
    const sm = await cli('sample', ckpt, '--count', '2', ...DEVICE);
    assert.equal(sm.code, 0, sm.err);
    const lines = sm.out.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^test #\d+ +predicted -?\d\.\d{4} +true \d\.\d{4} \(0\.\d{4} at step \d+ \+ 0\.\d{4} at step \d+\) +error [+-]\d\.\d{4}$/);
  });

  test('seq2seq: length-grouped batches, greedy-decoding accuracy, sample decodes strings, exact resume', async () => {
    const out = join(tmp, 's2s');
    const base = ['train', 'seq2seq', '--limit', '192', '--batch-size', '32', '--schedule', 'none', '--no-progress', ...DEVICE];
    const r = await cli(...base, '--epochs', '2', '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {2}data +digit-reversal \(generated, seeds 1 \/ 1000\): 192 train \/ 192 test digit strings of length 5-10/m);
    assert.match(r.out, /^epoch 2\/2  loss \d\.\d{4}  acc \d+\.\d\d%  val_loss/m);
    const losses = await trainLosses(out);
    assert.ok(losses[1]! < losses[0]!, `loss drops: ${losses}`);
    const metric = lineOf(r.out, /^greedy decoding/);
    assert.match(metric, /^greedy decoding on the test set: token accuracy \d+\.\d\d%, whole strings \d+\.\d\d% \(192 strings of length 5-10; chance 10%\)$/);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { test: { tokenAccuracy: number; exactAccuracy: number } };
    assert.ok(summary.test.tokenAccuracy >= 0 && summary.test.tokenAccuracy <= 1);

    // one epoch, then --resume to two: the same run (model, optimizer, global and batch-order generators restored)
    const out2 = join(tmp, 's2s-resumed');
    assert.equal((await cli(...base, '--epochs', '1', '--out', out2)).code, 0);
    const r2 = await cli('train', 'seq2seq', '--out', out2, '--resume', '--epochs', '2', '--no-progress');
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.out, /resumed from .*last\.safetensors at epoch 1/);
    assert.ok(!/^epoch 1\/2/m.test(r2.out));
    assert.deepEqual(await trainLosses(out2), losses);
    assert.equal(lineOf(r2.out, /^greedy decoding/), metric);

    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const ev = await cli('eval', ckpt, '--limit', '192', ...DEVICE);
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.out, /^digit-reversal test: loss \d\.\d{4}  token accuracy \d+\.\d\d% \(teacher forced\)/m);
    assert.equal(lineOf(ev.out, /^greedy decoding/), metric);
    const sm = await cli('sample', ckpt, '--count', '3', '--seed', '2', ...DEVICE);
    assert.equal(sm.code, 0, sm.err);
    const lines = sm.out.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, /^test #\d+ +(ok   |WRONG)  input \d{5,10} +output [\d^]*( +expected \d{5,10})?$/);
    const p = await cli('sample', ckpt, '--prompt', '0123456', ...DEVICE);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /^prompt +(ok   |WRONG)  input 0123456 +output [\d^]*( +expected 6543210)?\n$/);
    const bad = await cli('sample', ckpt, '--prompt', '12a');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^needle-ts sample: --prompt digits 0-9 to reverse, got "12a"$/m);
    const temp = await cli('sample', ckpt, '--temperature', '0.5');
    assert.equal(temp.code, 2);
    assert.match(temp.err, /--temperature only for language models, got it for the sequence model seq2seq/);
  });

  test('bilstm-tagger: token accuracy with the majority baseline; sample shows tags', async () => {
    const out = join(tmp, 'tagger');
    const r = await cli('train', 'bilstm-tagger', '--limit', '256', '--batch-size', '32', '--epochs', '2', '--out', out, '--no-progress', ...DEVICE);
    assert.equal(r.code, 0, r.err);
    const losses = await trainLosses(out);
    assert.ok(losses[1]! < losses[0]!, `loss drops: ${losses}`);
    const metric = lineOf(r.out, /^test token accuracy/);
    assert.match(metric, /^test token accuracy \d+\.\d\d% \(majority tag \d+\.\d\d%, best possible left-to-right 68\.82%; 256 strings of 12\)$/);
    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const ev = await cli('eval', ckpt, '--limit', '256', ...DEVICE);
    assert.equal(ev.code, 0, ev.err);
    assert.equal(lineOf(ev.out, /^test token accuracy/), metric);
    const tr = await cli('eval', ckpt, '--limit', '64', '--split', 'train', ...DEVICE);
    assert.equal(tr.code, 0, tr.err);
    assert.match(tr.out, /^occurrence-tags train: loss .*\(64 strings/m);
    assert.match(tr.out, /^train token accuracy \d+\.\d\d% .*64 strings of 12\)$/m);
    const sm = await cli('sample', ckpt, '--count', '2', ...DEVICE);
    assert.equal(sm.code, 0, sm.err);
    for (const l of sm.out.trimEnd().split('\n')) assert.match(l, /^test #\d+ +(ok   |WRONG)  input \d{12}  tags [0-3]{12}( +true [0-3]{12} \(\d+\/12\))?$/);
  });
});

describe("newton-logistic: Newton's method instead of an optimizer", () => {
  test('fits in a few steps, reports test accuracy, and writes a checkpoint that eval and sample read', async () => {
    const out = join(tmp, 'newton');
    const r = await cli('train', 'newton-logistic', '--dataset', 'synthetic', '--limit', '500', '--out', out, ...DEVICE);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ {2}data +synthetic \(built in\): c3 \(label 0\) vs c5 \(label 1\), 100 train \/ 100 test images/m);
    assert.match(r.out, /^ {2}model +PooledLogistic \(logistic regression\), 197 parameters$/m);
    assert.match(r.out, /^step 0  loss 0\.693147180560  \|grad\| /m);
    const steps = /^converged in (\d+) Newton steps \(\|grad\| .* <= 1e-8\)/m.exec(r.out);
    assert.ok(steps && Number(steps[1]) <= 10, r.out);
    const acc = /^test accuracy (\d+\.\d\d)% \(loss \d\.\d{4}, 100 images\)$/m.exec(r.out);
    assert.ok(acc && Number(acc[1]) >= 90, r.out);
    for (const f of ['metrics.jsonl', 'summary.json', 'checkpoints/last.safetensors']) assert.ok((await stat(join(out, f))).size > 0, f);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { steps: number; converged: boolean; losses: number[]; args: { classes: number[]; l2: number } };
    assert.equal(summary.steps, Number(steps[1]));
    assert.ok(summary.converged);
    assert.deepEqual(summary.args.classes, [3, 5]);
    assert.equal(summary.args.l2, 0.01);
    assert.ok(summary.losses.every((l, i) => i === 0 || l <= summary.losses[i - 1]!), 'the loss never increases');

    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const ev = await cli('eval', ckpt, '--limit', '500', ...DEVICE);
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.out, new RegExp(`newton-logistic \\(197 parameters\\), epoch ${steps[1]}, trained on synthetic`));
    assert.match(ev.out, new RegExp(`^synthetic test: accuracy ${acc[1]!.replace('.', '\\.')}%`, 'm'));
    assert.match(ev.out, /^ {2}c3 +\d+\.\d%  \(50\)$/m);
    const sm = await cli('sample', ckpt, '--count', '2', ...DEVICE);
    assert.equal(sm.code, 0, sm.err);
    for (const l of sm.out.trimEnd().split('\n')) assert.match(l, /^test #\d+ +(ok   |WRONG) predicted c[35] /);

    // other classes, the L2 penalty from --weight-decay, and --epochs capping the steps
    const r2 = await cli('train', 'newton-logistic', '--dataset', 'synthetic', '--limit', '300', '--classes', '0,7', '--weight-decay', '0.1', '--epochs', '2', '--out', join(tmp, 'newton2'), ...DEVICE);
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.out, /c0 \(label 0\) vs c7 \(label 1\), 60 train \/ 60 test images/);
    assert.match(r2.out, /L2 0\.1, at most 2 steps/);
    assert.match(r2.out, /^stopped after 2 Newton steps \(--epochs\) with \|grad\| /m);
  });
});

describe('usage errors of the new models', () => {
  const cases: [string[], RegExp][] = [
    [['train', 'tcn', '--dataset', 'mnist'], /^needle-ts train: --dataset adding for this model, got "mnist"$/m],
    [['train', 'seq2seq', '--dataset', 'adding'], /^needle-ts train: --dataset digit-reversal for this model, got "adding"$/m],
    [['train', 'bilstm-tagger', '--dataset', 'moby-dick'], /^needle-ts train: --dataset occurrence-tags for this model, got "moby-dick"$/m],
    [['train', 'mlp-resnet', '--dataset', 'adding'], /^needle-ts train: --dataset one of fashion-mnist, mnist, synthetic for this model, got "adding"$/m],
    [['train', 'tcn', '--seq-len', '10'], /^needle-ts train: --seq-len only for text models, got it for tcn$/m],
    [['train', 'tcn', '--val-split', '0.1'], /^needle-ts train: --val-split only for image models \(sequence models validate on their task's test set\), got 0\.1$/m],
    [['train', 'mlp-resnet', '--classes', '3,5'], /^needle-ts train: --classes only for newton-logistic, got it for mlp-resnet$/m],
    [['train', 'newton-logistic', '--lr', '0.1'], /^needle-ts train: --lr only for models trained by an optimizer \(newton-logistic takes Newton steps: --epochs caps them, --weight-decay is the L2 penalty\), got it for newton-logistic$/m],
    [['train', 'newton-logistic', '--batch-size', '10'], /^needle-ts train: --batch-size only for models trained by an optimizer .*, got it for newton-logistic$/m],
    [['train', 'newton-logistic', '--optimizer', 'sgd'], /^needle-ts train: --optimizer only for models trained by an optimizer/m],
    [['train', 'newton-logistic', '--resume'], /^needle-ts train: --resume only for models trained by an optimizer/m],
    [['train', 'newton-logistic', '--classes', '3,3'], /^needle-ts train: --classes two different classes 0-9 as A,B \(e\.g\. 3,5\), got "3,3"$/m],
    [['train', 'newton-logistic', '--classes', '3'], /^needle-ts train: --classes two different classes 0-9 as A,B \(e\.g\. 3,5\), got "3"$/m],
    [['train', 'newton-logistic', '--dataset', 'adding'], /^needle-ts train: --dataset one of mnist, fashion-mnist, synthetic for this model, got "adding"$/m],
  ];
  for (const [argv, re] of cases) {
    test(argv.join(' '), async () => {
      const r = await cli(...argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.out, '');
    });
  }

  test('help and info list the new models and data sets', async () => {
    const h = await cli('train', '--help');
    for (const name of ['tcn', 'seq2seq', 'bilstm-tagger', 'newton-logistic', 'adding', 'digit-reversal', 'occurrence-tags', '--classes']) assert.ok(h.out.includes(name), name);
    const i = await cli('info');
    for (const name of ['tcn', 'seq2seq', 'bilstm-tagger', 'newton-logistic']) assert.match(i.out, new RegExp(`^ {2}${name} +(sequence|image) `, 'm'));
    assert.match(i.out, /; sequence: adding, digit-reversal, occurrence-tags$/m);
    const j = JSON.parse((await cli('info', '--json')).out) as { datasets: { sequence: string[] }; models: Record<string, { task: string }> };
    assert.deepEqual(j.datasets.sequence, ['adding', 'digit-reversal', 'occurrence-tags']);
    assert.equal(j.models['tcn']!.task, 'sequence');
  });
});
