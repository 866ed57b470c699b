/** `needle-ts eval <checkpoint>` and `needle-ts sample <checkpoint>`. */
import * as nd from '../index.js';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.js';
import { count, entryForward, loadModel, println, readCheckpointMeta, textLoss, useDevice, PROG, type CheckpointMeta, type CliIO } from './common.js';
import { checkDatasetName, loadImageData, loadSequenceData, loadTextData, textWindows, type ImageData, type ImageLayout } from './data.js';
import type { ModelEntry } from './models.js';
import { parseDigits, sequenceLoader, sequenceLoss, sequenceMetrics, sequenceReport, sequenceSamples, sequenceUnit } from './sequence.js';

/** The interface of `needle-ts eval`. */
export const EVAL_SPEC: CommandSpec = {
  name: 'eval',
  usage: 'eval <checkpoint> [options]',
  summary: "Evaluate a checkpoint written by `train`: loss and accuracy (images: per class; text: perplexity; sequence models: their task's metric).",
  positionals: [{ name: 'checkpoint', required: true, help: 'a .safetensors checkpoint, e.g. out/checkpoints/last.safetensors' }],
  flags: [
    { name: 'dataset', type: 'string', help: 'Data set to evaluate on', value: 'NAME', defaultText: 'the one it was trained on' },
    { name: 'split', type: 'choice', choices: ['test', 'train'], help: 'Images and sequence tasks: which split (text: validation part of the corpus)', defaultText: 'test' },
    { name: 'batch-size', type: 'int', min: 1, help: 'Samples per forward pass', defaultText: '1000 (text: 128, sequences: 500)' },
    { name: 'limit', type: 'int', min: 1, help: 'Use only the first N images (text: N characters; sequence tasks: N sequences)' },
    { name: 'device', type: 'string', help: 'Device', value: 'NAME', defaultText: 'cpu' },
  ],
  epilog: ['Examples:', `  ${PROG} eval out/checkpoints/last.safetensors`, `  ${PROG} eval out/checkpoints/best.safetensors --split train --limit 5000`].join('\n'),
};

/** The interface of `needle-ts sample`. */
export const SAMPLE_SPEC: CommandSpec = {
  name: 'sample',
  usage: 'sample <checkpoint> [--prompt TEXT] [options]',
  summary: 'Generate text from a language-model checkpoint (image classifiers: classify random test images; sequence models: show test predictions).',
  positionals: [{ name: 'checkpoint', required: true, help: 'a .safetensors checkpoint written by train' }],
  flags: [
    { name: 'prompt', type: 'string', help: 'Text to continue (its characters must occur in the training text); seq2seq: digits to reverse', value: 'TEXT', defaultText: '"The "' },
    { name: 'length', type: 'int', min: 0, help: 'Characters to generate', defaultText: '200' },
    { name: 'temperature', type: 'number', min: 0, help: 'Sampling temperature (0: always the most likely character)', value: 'T', defaultText: '0.8' },
    { name: 'top-k', type: 'int', min: 1, help: 'Sample among the K most likely characters only', value: 'K', defaultText: 'all' },
    { name: 'count', type: 'int', min: 1, help: 'Image classifiers and sequence models: how many random test examples to show', defaultText: '8' },
    { name: 'seed', type: 'int', min: 0, help: 'Random seed', defaultText: '0' },
    { name: 'device', type: 'string', help: 'Device', value: 'NAME', defaultText: 'cpu' },
  ],
  epilog: [
    'Examples:',
    `  ${PROG} sample out/checkpoints/last.safetensors --prompt "Call me " --length 300 --temperature 0.7 --top-k 10`,
    `  ${PROG} sample out/seq2seq/checkpoints/last.safetensors --prompt 0123456789`,
  ].join('\n'),
};

/** The image data a checkpoint's model sees (its entry may take part of it, e.g. two classes). */
async function loadEntryImages(cmd: string, dataset: string, meta: CheckpointMeta, entry: ModelEntry, limit?: number): Promise<ImageData> {
  const layout: ImageLayout = entry.input ?? 'flat';
  const data = await loadImageData(cmd, dataset, layout, limit);
  return entry.imageData ? entry.imageData(data, meta.config) : data;
}

/** Runs `needle-ts eval`. */
export async function evalCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const cmd = `${PROG} eval`;
  const p = parseArgs(PROG, EVAL_SPEC, argv);
  if (p.help) {
    io.stdout.write(helpText(PROG, EVAL_SPEC));
    return 0;
  }
  const path = p.positionals[0]!;
  const f = p.flags;
  const device = useDevice(cmd, f['device'] as string | undefined);
  const { meta, entry, epoch } = await readCheckpointMeta(cmd, path);
  const dataset = (f['dataset'] as string | undefined) ?? meta.dataset;
  checkDatasetName(cmd, meta.task, dataset, entry.datasets);
  const model = await loadModel(path, meta, entry);
  const limit = f['limit'] as number | undefined;
  const say = (line = '') => println(io.stdout, line);
  say(`${path}: ${meta.model} (${count(model.parameters().reduce((a, t) => a + t.size, 0))} parameters), epoch ${epoch ?? '?'}, trained on ${meta.dataset}; device ${device}`);
  const { TensorDataset, DataLoader } = nd.utils.data;
  if (meta.task === 'sequence') {
    const data = loadSequenceData(cmd, dataset, limit);
    const split = (f['split'] as string | undefined) ?? 'test';
    const part = split === 'train' ? data.train : data.test;
    const loader = sequenceLoader(part, (f['batch-size'] as number | undefined) ?? 500, false);
    const r = await nd.train.evaluate(model, loader, { loss: sequenceLoss(data.name), metrics: sequenceMetrics(data.name), forward: entryForward(entry) });
    const acc = r.accuracy !== undefined ? `  token accuracy ${(100 * r.accuracy).toFixed(2)}%${data.name === 'digit-reversal' ? ' (teacher forced)' : ''}` : '';
    say(`${dataset} ${split}: loss ${r.loss.toFixed(4)}${acc}  (${count(part.n)} ${sequenceUnit(data.name)}, ${r.seconds.toFixed(1)}s)`);
    for (const line of sequenceReport(entry, model, data, part, split).lines) say(line);
  } else if (meta.task === 'image') {
    const data = await loadEntryImages(cmd, dataset, meta, entry, limit);
    const split = (f['split'] as string | undefined) ?? 'test';
    const { x, y } = split === 'train' ? data.train : data.test;
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: (f['batch-size'] as number | undefined) ?? 1000 });
    const r = await nd.train.evaluate(model, loader, { loss: new nd.nn.CrossEntropyLoss() });
    say(`${dataset} ${split}: accuracy ${(100 * r.accuracy!).toFixed(2)}%  loss ${r.loss.toFixed(4)}  (${count(r.samples)} images, ${r.seconds.toFixed(1)}s)`);
    // per-class accuracy
    const pred = nd.train.predict(model, x, { batchSize: 1000 }).argmax(1).dataSync();
    const labels = y.dataSync();
    const classes = data.classes;
    const hit = new Array<number>(classes.length).fill(0);
    const tot = new Array<number>(classes.length).fill(0);
    for (let i = 0; i < labels.length; i++) {
      tot[labels[i]!]! += 1;
      if (pred[i] === labels[i]) hit[labels[i]!]! += 1;
    }
    say('per class:');
    classes.forEach((c, k) => say(`  ${c.padEnd(12)} ${tot[k] ? `${((100 * hit[k]!) / tot[k]!).toFixed(1).padStart(5)}%` : '    -'}  (${tot[k]})`));
  } else {
    if (f['split'] !== undefined) throw new UsageError(`${cmd}: --split only for image models (text models are evaluated on the last 10% of the corpus), got --split ${String(f['split'])}`);
    const data = await loadTextData(cmd, dataset, limit, meta.vocab);
    const seqLen = meta.config.seqLen ?? 64;
    const w = textWindows(data.val, seqLen);
    const loader = new DataLoader(new TensorDataset(w.x, w.y), { batchSize: (f['batch-size'] as number | undefined) ?? 128 });
    const r = await nd.train.evaluate(model, loader, { loss: textLoss(), metrics: ['accuracy', 'perplexity'], forward: entryForward(entry) });
    say(`${dataset} validation: perplexity ${r.perplexity!.toFixed(3)}  loss ${r.loss.toFixed(4)}  next-character accuracy ${(100 * r.accuracy!).toFixed(2)}%  (${count(r.samples)} characters, ${r.seconds.toFixed(1)}s)`);
  }
  return 0;
}

/** Runs `needle-ts sample`. */
export async function sampleCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const cmd = `${PROG} sample`;
  const p = parseArgs(PROG, SAMPLE_SPEC, argv);
  if (p.help) {
    io.stdout.write(helpText(PROG, SAMPLE_SPEC));
    return 0;
  }
  const path = p.positionals[0]!;
  const f = p.flags;
  useDevice(cmd, f['device'] as string | undefined);
  const { meta, entry } = await readCheckpointMeta(cmd, path);
  const model = await loadModel(path, meta, entry);
  const generator = new nd.Generator((f['seed'] as number | undefined) ?? 0);
  const say = (line = '') => println(io.stdout, line);
  if (meta.task === 'sequence') {
    for (const k of ['length', 'temperature', 'top-k']) {
      if (f[k] !== undefined) throw new UsageError(`${cmd}: --${k} only for language models, got it for the sequence model ${meta.model}`);
    }
    const data = loadSequenceData(cmd, meta.dataset);
    let prompt: number[] | undefined;
    if (f['prompt'] !== undefined) {
      if (data.name !== 'digit-reversal') throw new UsageError(`${cmd}: --prompt only for language models and seq2seq, got it for ${meta.model}`);
      const digits = parseDigits(String(f['prompt']));
      if (!digits) throw new UsageError(`${cmd}: --prompt digits 0-9 to reverse, got ${JSON.stringify(f['prompt'])}`);
      prompt = digits;
    }
    for (const line of sequenceSamples(entry, model, data, (f['count'] as number | undefined) ?? 8, generator, prompt)) say(line);
    return 0;
  }
  if (meta.task === 'image') {
    for (const k of ['prompt', 'length', 'temperature', 'top-k']) {
      if (f[k] !== undefined) throw new UsageError(`${cmd}: --${k} only for language models, got it for the image classifier ${meta.model}`);
    }
    const data = await loadEntryImages(cmd, meta.dataset, meta, entry);
    const n = data.test.y.shape[0]!;
    const k = Math.min((f['count'] as number | undefined) ?? 8, n);
    const idx = nd.randperm(n, { generator }).slice([{ start: 0, stop: k }]);
    const x = nd.indexSelect(data.test.x, 0, idx);
    const labels = nd.indexSelect(data.test.y, 0, idx).dataSync();
    const res = nd.train.classify(model, x, { labels: data.classes });
    const ids = idx.dataSync();
    res.forEach((r, i) => {
      const truth = data.classes[labels[i]!]!;
      say(`test #${String(ids[i]).padEnd(6)} ${r.label === truth ? 'ok   ' : 'WRONG'} predicted ${r.label!.padEnd(12)} (${(100 * r.prob).toFixed(1).padStart(5)}%)  true ${truth}`);
    });
    return 0;
  }
  if (f['count'] !== undefined) throw new UsageError(`${cmd}: --count only for image classifiers and sequence models, got it for the language model ${meta.model}`);
  const vocab = meta.vocab ?? '';
  const prompt = (f['prompt'] as string | undefined) ?? 'The ';
  const index = new Map([...vocab].map((c, i) => [c, i]));
  const unknown = [...new Set([...prompt].filter((c) => !index.has(c)))];
  if (unknown.length > 0) throw new UsageError(`${cmd}: --prompt characters from the training text, got ${unknown.map((c) => JSON.stringify(c)).join(', ')}`);
  if (prompt.length === 0) throw new UsageError(`${cmd}: --prompt a non-empty text, got ""`);
  const forward = entryForward(entry);
  const wrapped = {
    forward: (x: nd.Tensor) => forward(model as unknown as nd.train.TrainableModel, [x]),
    train: (m?: boolean) => model.train(m),
    get training() {
      return model.training;
    },
  };
  io.stdout.write(prompt);
  nd.train.generate(wrapped, [...prompt].map((c) => index.get(c)!), {
    maxNewTokens: (f['length'] as number | undefined) ?? 200,
    temperature: (f['temperature'] as number | undefined) ?? 0.8,
    ...(f['top-k'] !== undefined ? { topK: f['top-k'] as number } : {}),
    contextLength: meta.config.seqLen ?? 64,
    generator,
    onToken: (t) => io.stdout.write(vocab[t]!),
  });
  io.stdout.write('\n');
  return 0;
}
