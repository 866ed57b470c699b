/** The needle-ts CLI: help, usage errors (exit code 2), info, and tiny train / eval / sample runs. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as nd from '../src/index.js';
import { COMMANDS } from '../src/cli/main.js';
import { cli, type Run } from './cli_helpers.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'needle-cli-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});


/** Runs the CLI in a child process (real exit codes and streams). */
function spawnCli(...argv: string[]): Promise<Run> {
  const mainUrl = pathToFileURL(join(HERE, '..', 'src', 'cli', 'main.js')).href;
  const script = `import { run } from ${JSON.stringify(mainUrl)}; await run(${JSON.stringify(argv)});`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

describe('help', () => {
  test('the top level lists the commands', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0);
    for (const name of ['train', 'eval', 'sample', 'info']) assert.match(r.out, new RegExp(`^  ${name} `, 'm'));
    const none = await cli();
    assert.equal(none.code, 2);
    assert.match(none.err, /^Usage: needle-ts <command>/);
  });

  for (const name of Object.keys(COMMANDS)) {
    test(`${name} --help`, async () => {
      const r = await cli(name, '--help');
      assert.equal(r.code, 0);
      assert.equal(r.err, '');
      assert.match(r.out, new RegExp(`^Usage: needle-ts ${name}`));
      assert.match(r.out, /^Options:$/m);
      assert.match(r.out, /-h, --help/);
    });
  }

  test('train --help names every documented flag', async () => {
    const r = await cli('train', '-h');
    for (const f of ['dataset', 'epochs', 'batch-size', 'lr', 'optimizer', 'weight-decay', 'device', 'seed', 'out', 'resume', 'limit']) {
      assert.match(r.out, new RegExp(`--${f}\\b`), f);
    }
    assert.match(r.out, /mlp-resnet/);
  });
});

describe('usage errors exit with code 2 and name the problem', () => {
  const cases: [string[], RegExp][] = [
    [['train', 'mlp-resnet', '--bogus', '3'], /^needle-ts train: a known flag \(see needle-ts train --help\), got unknown flag --bogus$/m],
    [['train', 'mlp-resnet', '--epochs', 'zero'], /^needle-ts train: --epochs a positive integer, got "zero"$/m],
    [['train', 'mlp-resnet', '--epochs', '0'], /--epochs a positive integer, got "0"/],
    [['train', 'mlp-resnet', '--lr', '-1'], /^needle-ts train: --lr a number > 0, got "-1"$/m],
    [['train', 'mlp-resnet', '--optimizer', 'lbfgs'], /^needle-ts train: --optimizer one of sgd, adam, adamw, rmsprop, adagrad, got "lbfgs"$/m],
    [['train', 'mlp-resnet', '--batch-size'], /^needle-ts train: --batch-size a value \(N\), got end of arguments$/m],
    [['train', 'mlp-resnet', '--device', 'tpu'], /^needle-ts train: --device one of cpu.*, got "tpu"$/m],
    [['train', 'mlp-resnet', '--dataset', 'imagenet', '--limit', '10'], /^needle-ts train: --dataset one of fashion-mnist, mnist, synthetic for this model, got "imagenet"$/m],
    [['train', 'no-such-model'], /^needle-ts train: <model> one of mlp-resnet, .+, got "no-such-model"$/m],
    [['train'], /^needle-ts train: a <model> argument .+, got none$/m],
    [['train', 'mlp-resnet', 'extra'], /^needle-ts train: at most 1 argument, got unexpected "extra"$/m],
    [['eval'], /^needle-ts eval: a <checkpoint> argument/m],
    [['eval', 'missing.safetensors'], /^needle-ts eval: a readable checkpoint file, got "missing.safetensors" \(ENOENT\)$/m],
    [['sample', 'x.safetensors', '--temperature', 'hot'], /^needle-ts sample: --temperature a number >= 0, got "hot"$/m],
    [['info', '--verbose'], /got unknown flag --verbose/],
    [['fly'], /^needle-ts: a command \(train, eval, sample, info\), got "fly"/m],
  ];
  for (const [argv, re] of cases) {
    test(argv.join(' ') || '(none)', async () => {
      const r = await cli(...argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, re);
      assert.equal(r.out, '');
    });
  }

  test('a real process gets exit code 2 and the message on stderr', async () => {
    const r = await spawnCli('train', 'mlp-resnet', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown flag --bogus/);
    const ok = await spawnCli('info');
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^needle-ts \d+\.\d+\.\d+/);
  });
});

describe('info', () => {
  test('prints versions, devices, backends and models', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await cli('info');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^needle-ts ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.out, new RegExp(`^node +${process.version.replace(/\./g, '\\.')} `, 'm'));
    // the default device is the fastest available backend (wasm where WebAssembly SIMD works)
    assert.match(r.out, new RegExp(`^devices +(.+, )?${nd.getDefaultDevice()} \\(default\\)`, 'm'));
    assert.match(r.out, /^devices +cpu\b/m);
    assert.match(r.out, /^backends +cpu: cpu/m);
    assert.match(r.out, /^ {2}mlp-resnet +image/m);
    const j = await cli('info', '--json');
    const info = JSON.parse(j.out) as { 'needle-ts': string; node: string; devices: { device: string }[] };
    assert.equal(info['needle-ts'], pkg.version);
    assert.equal(info.node, process.version);
    assert.ok(info.devices.some((d) => d.device === 'cpu'));
  });
});

describe('train / eval / sample on small data', () => {
  test('train a tiny image run, resume it, then eval and sample its checkpoint', async () => {
    const out = join(tmp, 'img');
    const args = ['train', 'mlp-resnet', '--dataset', 'synthetic', '--limit', '200', '--batch-size', '50', '--seed', '3', '--out', out, '--no-progress'];
    const r = await cli(...args, '--epochs', '2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^needle-ts train mlp-resnet$/m);
    assert.match(r.out, /^ {2}data +synthetic \(built in\): 200 train \/ 200 test images; validation on the test split$/m);
    assert.match(r.out, /^epoch 1\/2  loss .*val_acc/m);
    assert.match(r.out, /^epoch 2\/2  loss /m);
    assert.match(r.out, /^test accuracy \d+\.\d\d% \(loss \d\.\d{4}, 200 images\)$/m);
    assert.ok(!r.out.includes('\r'), 'no progress bar when not a TTY');
    for (const f of ['metrics.jsonl', 'plot.svg', 'summary.json', 'checkpoints/last.safetensors', 'checkpoints/best.safetensors']) {
      assert.ok((await stat(join(out, f))).size > 0, f);
    }

    // resume to 3 epochs: the stored settings apply, one more epoch runs
    const r2 = await cli('train', 'mlp-resnet', '--out', out, '--resume', '--epochs', '3', '--no-progress');
    assert.equal(r2.code, 0, r2.err);
    assert.match(r2.out, /resumed from .*last\.safetensors at epoch 2/);
    assert.ok(!/^epoch [12]\/3/m.test(r2.out));
    assert.match(r2.out, /^epoch 3\/3  loss /m);
    const lines = (await readFile(join(out, 'metrics.jsonl'), 'utf8')).trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { epoch: number }).epoch), [1, 2, 3]);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { test: { accuracy: number }; epochs: number; args: { seed: number } };
    assert.equal(summary.epochs, 3);
    assert.equal(summary.args.seed, 3);

    // eval prints the same test accuracy as the end of training
    const ev = await cli('eval', join(out, 'checkpoints', 'last.safetensors'), '--limit', '200');
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.out, /mlp-resnet \(110,\d{3} parameters\), epoch 3, trained on synthetic/);
    const acc = /synthetic test: accuracy (\d+\.\d\d)%/.exec(ev.out);
    assert.ok(acc, ev.out);
    assert.equal(acc[1], (100 * summary.test.accuracy).toFixed(2));
    assert.match(ev.out, /^per class:$/m);

    // sample on an image classifier classifies random test images
    const sm = await cli('sample', join(out, 'checkpoints', 'last.safetensors'), '--count', '3');
    assert.equal(sm.code, 0, sm.err);
    assert.equal(sm.out.trimEnd().split('\n').length, 3);
    assert.match(sm.out, /^test #\d+ +(ok|WRONG) +predicted c\d/m);
    const bad = await cli('sample', join(out, 'checkpoints', 'last.safetensors'), '--prompt', 'hi');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--prompt only for language models/);

    // resuming another model's checkpoint is a usage error
    const wrong = await cli('train', 'small-cnn', '--out', out, '--resume');
    assert.equal(wrong.code, 2);
    assert.match(wrong.err, /--resume with a checkpoint of small-cnn, got one of mlp-resnet/);
  });

  test('train a character bigram model on a text file, then sample from it', async () => {
    const file = join(tmp, 'text.txt');
    await writeFile(file, 'abcabcabcabd '.repeat(60));
    const out = join(tmp, 'txt');
    const r = await cli('train', 'bigram', '--dataset', `file:${file}`, '--epochs', '3', '--seq-len', '16', '--lr', '0.1', '--out', out, '--no-progress');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^epoch 3\/3  loss \d\.\d{4}  acc .*ppl /m);
    assert.match(r.out, /^validation perplexity \d+\.\d{3}/m);
    const ckpt = join(out, 'checkpoints', 'last.safetensors');
    const s = await cli('sample', ckpt, '--prompt', 'ab', '--length', '10', '--temperature', '0', '--seed', '1');
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /^ab[abcd ]{10}\n$/);
    assert.ok(s.out.startsWith('abc'), `greedy continues the pattern: ${JSON.stringify(s.out)}`);
    const s2 = await cli('sample', ckpt, '--prompt', 'ab', '--length', '30', '--seed', '5');
    const s3 = await cli('sample', ckpt, '--prompt', 'ab', '--length', '30', '--seed', '5');
    assert.equal(s2.out, s3.out, 'same seed, same text');
    const bad = await cli('sample', ckpt, '--prompt', 'xyz');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^needle-ts sample: --prompt characters from the training text, got "x", "y", "z"$/m);
    const ev = await cli('eval', ckpt);
    assert.equal(ev.code, 0, ev.err);
    assert.match(ev.out, /validation: perplexity \d+\.\d{3}/);
  });
});
