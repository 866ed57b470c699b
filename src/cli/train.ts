/** `needle-ts train <model>`: trains a registry model and writes metrics, plot and checkpoints. */
import { join } from 'node:path';
import * as nd from '../index.js';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.js';
import {
  count,
  entryForward,
  isTrainArgs,
  numParameters,
  packageVersion,
  println,
  readCheckpointMeta,
  textLoss,
  useDevice,
  PROG,
  type CheckpointMeta,
  type CliIO,
  type TrainArgs,
} from './common.js';
import {
  IMAGE_DATASETS,
  SEQUENCE_DATASETS,
  TEXT_DATASETS,
  ADDING_T,
  TAGS_K,
  TAGS_L,
  checkDatasetName,
  loadImageData,
  loadSequenceData,
  loadTextData,
  textWindows,
  type ImageData,
  type SequenceData,
  type TextData,
} from './data.js';
import { MODELS, OPTIMIZERS, makeOptimizer, modelEntry, type ModelConfig, type ModelEntry } from './models.js';
import { sequenceLoader, sequenceLoss, sequenceMetrics, sequenceReport } from './sequence.js';

/** The interface of `needle-ts train`. */
export const TRAIN_SPEC: CommandSpec = {
  name: 'train',
  usage: 'train <model> [options]',
  summary: 'Train a model from the registry; writes metrics.jsonl, plot.svg and checkpoints/ to --out.',
  positionals: [{ name: 'model', required: true, help: `one of ${Object.keys(MODELS).join(', ')}` }],
  flags: [
    {
      name: 'dataset',
      type: 'string',
      help: `Images: ${IMAGE_DATASETS.join(', ')}; text: ${TEXT_DATASETS.join(', ')}, file:PATH; sequence tasks (one per model): ${SEQUENCE_DATASETS.join(', ')}`,
      value: 'NAME',
      defaultText: 'the model\'s: fashion-mnist; text moby-dick; newton-logistic mnist',
    },
    { name: 'epochs', type: 'int', min: 1, help: 'Training epochs (newton-logistic: the most Newton steps)', defaultText: 'per model; mlp-resnet 10' },
    { name: 'batch-size', type: 'int', min: 1, help: 'Samples per batch', defaultText: 'images 100, text 32, per sequence model' },
    { name: 'lr', type: 'number', min: 0, exclusiveMin: true, help: 'Learning rate', value: 'LR', defaultText: 'per model; mlp-resnet 0.001' },
    { name: 'optimizer', type: 'choice', choices: OPTIMIZERS, value: 'NAME', help: `Optimizer: ${OPTIMIZERS.join(', ')}`, defaultText: 'adam' },
    { name: 'weight-decay', type: 'number', min: 0, value: 'WD', help: 'Weight decay (newton-logistic: the L2 penalty)', defaultText: "the optimizer's: 0, adamw 0.01; newton-logistic 0.01" },
    { name: 'momentum', type: 'number', min: 0, value: 'M', help: 'Momentum (sgd, rmsprop)', defaultText: '0' },
    { name: 'schedule', type: 'choice', choices: ['none', 'cosine'], help: 'Learning-rate schedule over the epochs (sequence models: over all steps, to lr/20)', defaultText: 'per model; mlp-resnet and sequence models cosine' },
    { name: 'clip-grad', type: 'number', min: 0, exclusiveMin: true, help: 'Clip the gradient norm to this value', value: 'NORM', defaultText: 'off; sequence models 1' },
    { name: 'patience', type: 'int', min: 1, help: 'Early stopping: epochs without val_loss improvement' },
    { name: 'val-split', type: 'number', min: 0, max: 0.9, help: 'Fraction of the training images held out for validation (0: validate on the test split)', value: 'F', defaultText: '0' },
    { name: 'seq-len', type: 'int', min: 2, help: 'Text models: characters per training window', defaultText: '64' },
    { name: 'classes', type: 'string', value: 'A,B', help: 'newton-logistic: the two classes to separate (label 0, label 1)', defaultText: '3,5' },
    { name: 'limit', type: 'int', min: 1, help: 'Use only the first N images of each split (text: N characters; sequence tasks: N sequences), for smoke runs' },
    { name: 'device', type: 'string', help: 'Device (see `needle-ts info`)', value: 'NAME', defaultText: 'cpu' },
    { name: 'seed', type: 'int', min: 0, help: 'Random seed (initialization, shuffling, dropout)', defaultText: '0' },
    { name: 'out', type: 'string', help: 'Output directory', value: 'DIR', defaultText: 'out' },
    {
      name: 'resume',
      type: 'string',
      optionalValue: true,
      valueSuffix: '.safetensors',
      value: 'CKPT',
      help: 'Continue from a checkpoint (default DIR/checkpoints/last.safetensors); its settings apply unless given again',
    },
    { name: 'progress', type: 'boolean', help: 'Progress bar on a terminal (--no-progress: one line per epoch only)', defaultText: 'on' },
  ],
  epilog: [
    'Examples:',
    `  ${PROG} train mlp-resnet                          # the main job: Fashion-MNIST, Adam, 10 epochs`,
    `  ${PROG} train mlp-resnet --dataset mnist --epochs 5 --lr 2e-3`,
    `  ${PROG} train mlp-resnet --limit 1000 --epochs 2 --out /tmp/smoke`,
    `  ${PROG} train mlp-resnet --out out --resume --epochs 15   # continue a run to 15 epochs`,
    `  ${PROG} train transformer-lm --dataset moby-dick --limit 200000`,
    `  ${PROG} train tcn                                 # the adding problem (also: seq2seq, bilstm-tagger)`,
    `  ${PROG} train newton-logistic --classes 4,9       # Newton's method, no optimizer`,
  ].join('\n'),
};

type Flags = Record<string, string | number | boolean>;

/** Entry defaults, then the checkpoint's settings (on resume), then the flags given. */
function resolveArgs(entry: ModelEntry, flags: Flags, stored: TrainArgs | undefined): TrainArgs {
  const base: TrainArgs = stored
    ? { ...stored }
    : { schedule: 'none', ...entry.defaults, dataset: entry.dataset, momentum: 0, seed: 0, valSplit: 0, device: nd.getDefaultDevice() };
  const map: [string, keyof TrainArgs][] = [
    ['dataset', 'dataset'],
    ['epochs', 'epochs'],
    ['batch-size', 'batchSize'],
    ['lr', 'lr'],
    ['optimizer', 'optimizer'],
    ['weight-decay', 'weightDecay'],
    ['momentum', 'momentum'],
    ['schedule', 'schedule'],
    ['clip-grad', 'clipGrad'],
    ['patience', 'patience'],
    ['val-split', 'valSplit'],
    ['seq-len', 'seqLen'],
    ['limit', 'limit'],
    ['device', 'device'],
    ['seed', 'seed'],
  ];
  const out = base as unknown as Record<string, unknown>;
  for (const [flag, key] of map) if (flags[flag] !== undefined) out[key] = flags[flag];
  return base;
}

/** The generator that shuffles digit-reversal batches (saved in checkpoints for --resume). */
function samplerGenerator(data: ImageData | TextData | SequenceData, seed: number): nd.Generator | undefined {
  return data.kind === 'sequence' && data.name === 'digit-reversal' ? new nd.Generator(seed) : undefined;
}

function makeLoaders(data: ImageData | TextData | SequenceData, args: TrainArgs, seqLen: number, generator: nd.Generator | undefined) {
  const { TensorDataset, DataLoader, randomSplit } = nd.utils.data;
  if (data.kind === 'sequence') {
    const test = sequenceLoader(data.test, 500, false);
    return { train: sequenceLoader(data.train, args.batchSize, true, generator), val: test, test, nTrain: data.train.n, nVal: data.test.n, nTest: data.test.n };
  }
  if (data.kind === 'image') {
    let trainDs: nd.utils.data.Dataset<nd.Tensor[]> = new TensorDataset(data.train.x, data.train.y);
    let valDs: nd.utils.data.Dataset<nd.Tensor[]>;
    if (args.valSplit > 0) {
      const parts = randomSplit(trainDs, [1 - args.valSplit, args.valSplit], { generator: new nd.Generator(args.seed) });
      trainDs = parts[0]!;
      valDs = parts[1]!;
    } else {
      valDs = new TensorDataset(data.test.x, data.test.y);
    }
    const testDs = new TensorDataset(data.test.x, data.test.y);
    return {
      train: new DataLoader(trainDs, { batchSize: args.batchSize, shuffle: true }),
      val: new DataLoader(valDs, { batchSize: 1000 }),
      test: new DataLoader(testDs, { batchSize: 1000 }),
      nTrain: trainDs.length,
      nVal: valDs.length,
      nTest: testDs.length,
    };
  }
  const tr = textWindows(data.train, seqLen);
  const va = textWindows(data.val, seqLen);
  const valDs = new TensorDataset(va.x, va.y);
  return {
    train: new DataLoader(new TensorDataset(tr.x, tr.y), { batchSize: args.batchSize, shuffle: true }),
    val: new DataLoader(valDs, { batchSize: args.batchSize * 4 }),
    test: new DataLoader(valDs, { batchSize: args.batchSize * 4 }),
    nTrain: tr.x.shape[0]!,
    nVal: va.x.shape[0]!,
    nTest: va.x.shape[0]!,
  };
}

/** What sequence models' `build` receives: the task's token count and length. */
function sequenceConfig(data: SequenceData): ModelConfig {
  if (data.name === 'adding') return { seqLen: ADDING_T };
  if (data.name === 'occurrence-tags') return { vocabSize: TAGS_K, seqLen: TAGS_L };
  return { vocabSize: nd.datasets.REVERSAL_EOS + 1 };
}

/** A stream that reports itself as not a TTY (for --no-progress). */
function lineStream(s: nd.train.OutputStream): nd.train.OutputStream {
  return { write: (t: string) => s.write(t), isTTY: false };
}

/** Runs `needle-ts train`. Returns the exit code. */
export async function trainCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const cmd = `${PROG} train`;
  const p = parseArgs(PROG, TRAIN_SPEC, argv);
  if (p.help) {
    io.stdout.write(helpText(PROG, TRAIN_SPEC));
    return 0;
  }
  const t0 = performance.now();
  const name = p.positionals[0]!;
  const entry = modelEntry(name);
  if (!entry) throw new UsageError(`${cmd}: <model> one of ${Object.keys(MODELS).join(', ')}, got ${JSON.stringify(name)}`);
  const flags = p.flags;
  const outDir = typeof flags['out'] === 'string' ? flags['out'] : 'out';
  if (entry.solve) return entry.solve({ cmd, name, entry, flags, outDir, io, t0 });
  if (flags['classes'] !== undefined) throw new UsageError(`${cmd}: --classes only for newton-logistic, got it for ${name}`);

  let resumePath: string | undefined;
  let stored: CheckpointMeta | undefined;
  if (flags['resume'] !== undefined) {
    resumePath = flags['resume'] === true ? join(outDir, 'checkpoints', 'last.safetensors') : String(flags['resume']);
    stored = (await readCheckpointMeta(cmd, resumePath)).meta;
    if (stored.model !== name) throw new UsageError(`${cmd}: --resume with a checkpoint of ${name}, got one of ${stored.model}`);
  }
  const storedArgs = stored && isTrainArgs(stored.args) ? stored.args : undefined;
  const args = resolveArgs(entry, flags, storedArgs);
  if (entry.task === 'text' && args.valSplit > 0) throw new UsageError(`${cmd}: --val-split only for image models (text models validate on the last 10% of the corpus), got ${args.valSplit}`);
  if (entry.task === 'sequence' && args.valSplit > 0) throw new UsageError(`${cmd}: --val-split only for image models (sequence models validate on their task's test set), got ${args.valSplit}`);
  if (entry.task !== 'text' && flags['seq-len'] !== undefined) throw new UsageError(`${cmd}: --seq-len only for text models, got it for ${name}`);
  checkDatasetName(cmd, entry.task, args.dataset, entry.datasets);
  args.device = useDevice(cmd, args.device);
  nd.manualSeed(args.seed);

  const say = (line = '') => println(io.stdout, line);
  say(`${PROG} train ${name}${resumePath ? ` (resuming ${resumePath})` : ''}`);
  const data =
    entry.task === 'image'
      ? await loadImageData(cmd, args.dataset, entry.input ?? 'flat', args.limit)
      : entry.task === 'sequence'
        ? loadSequenceData(cmd, args.dataset, args.limit)
        : await loadTextData(cmd, args.dataset, args.limit, stored?.vocab);
  const seqLen = args.seqLen ?? 64;
  const config: ModelConfig = data.kind === 'image' ? { classes: data.classes.length } : data.kind === 'text' ? { vocabSize: data.vocab.length, seqLen } : sequenceConfig(data);
  const model = entry.build(config);
  const shuffleGenerator = samplerGenerator(data, args.seed);
  const loaders = makeLoaders(data, args, seqLen, shuffleGenerator);
  const wd = args.weightDecay;
  const optimizer = makeOptimizer(args.optimizer, model.parameters(), args.lr, wd, args.momentum);
  // sequence models anneal per step (the zoo scripts' schedule); the others per epoch
  const perStep = data.kind === 'sequence';
  const scheduler =
    args.schedule !== 'cosine'
      ? undefined
      : perStep
        ? new nd.optim.CosineAnnealingLR(optimizer, args.epochs * loaders.train.length, { etaMin: args.lr / 20 })
        : new nd.optim.CosineAnnealingLR(optimizer, args.epochs);
  const callbacks: nd.train.Callback[] = [];
  if (args.patience !== undefined) callbacks.push(new nd.train.EarlyStopping({ monitor: 'valLoss', patience: args.patience }));

  const unit = data.kind === 'image' ? 'images' : data.kind === 'sequence' ? data.unit : `windows of ${seqLen} characters`;
  const valText = data.kind === 'text' ? 'the last 10% of the corpus' : args.valSplit > 0 ? `${count(loaders.nVal)} held-out training images` : 'the test split';
  say(`  data      ${data.name} (${data.source}): ${count(loaders.nTrain)} train / ${count(loaders.nTest)} test ${unit}; validation on ${valText}`);
  say(`  model     ${model.constructor.name}, ${count(numParameters(model))} parameters`);
  const wdText = wd === undefined ? '' : `, weight decay ${wd}`;
  const schedText = args.schedule === 'none' ? '' : perStep ? `, ${args.schedule} schedule per step to lr/20` : `, ${args.schedule} schedule`;
  const clipText = args.clipGrad === undefined ? '' : `, gradient norm clipped at ${args.clipGrad}`;
  say(`  training  ${args.optimizer} lr ${args.lr}${wdText}${schedText}, batch ${args.batchSize}, ${args.epochs} epoch${args.epochs === 1 ? '' : 's'}${perStep ? ` (${count(loaders.train.length)} steps each)` : ''}${clipText}, seed ${args.seed}, device ${args.device}`);
  say(`  output    ${outDir}/`);

  // plain JSON (no undefined), so `eval` can read it from the header without decoding tensors
  const meta: CheckpointMeta = JSON.parse(JSON.stringify({
    model: name,
    config,
    task: entry.task,
    dataset: args.dataset,
    ...(data.kind === 'text' ? { vocab: data.vocab } : data.kind === 'image' ? { classes: data.classes } : {}),
    args,
    version: await packageVersion(),
  })) as CheckpointMeta;
  const text = data.kind === 'text';
  const progress = flags['progress'] === false ? lineStream(io.stdout) : io.stdout;
  const lossMetrics: Pick<nd.train.FitOptions, 'loss' | 'metrics' | 'forward'> =
    data.kind === 'sequence'
      ? { loss: sequenceLoss(data.name), metrics: sequenceMetrics(data.name), forward: entryForward(entry) }
      : text
        ? { loss: textLoss(), metrics: ['accuracy', 'perplexity'], forward: entryForward(entry) }
        : { loss: new nd.nn.CrossEntropyLoss() };
  const result = await nd.train.fit({
    model,
    trainLoader: loaders.train,
    valLoader: loaders.val,
    optimizer,
    ...(scheduler ? { scheduler, schedulerInterval: perStep ? ('batch' as const) : ('epoch' as const) } : {}),
    epochs: args.epochs,
    callbacks,
    ...lossMetrics,
    ...(args.clipGrad !== undefined ? { clipGradNorm: args.clipGrad } : {}),
    ...(shuffleGenerator ? { generators: [shuffleGenerator] } : {}),
    progress,
    outDir,
    ...(resumePath ? { resume: resumePath } : {}),
    meta,
    title: `${name} on ${args.dataset}`,
  });

  const test = await nd.train.evaluate(model, loaders.test, lossMetrics);
  const pct = (v: number | undefined) => `${(100 * (v ?? NaN)).toFixed(2)}%`;
  let taskMetric: Record<string, number> = {};
  if (data.kind === 'image') {
    say(`test accuracy ${pct(test.accuracy)} (loss ${test.loss.toFixed(4)}, ${count(test.samples)} images)`);
  } else if (data.kind === 'sequence') {
    const report = sequenceReport(entry, model, data, data.test);
    for (const line of report.lines) say(line);
    taskMetric = report.values;
  } else {
    say(`validation perplexity ${test.perplexity!.toFixed(3)} (loss ${test.loss.toFixed(4)}, next-character accuracy ${pct(test.accuracy)}, ${count(test.samples)} characters)`);
    const prompt = [...data.val.subarray(0, Math.min(16, data.val.length))];
    const wrapped = { forward: (x: nd.Tensor) => entryForward(entry)(model as unknown as nd.train.TrainableModel, [x]), train: (m?: boolean) => model.train(m), get training() { return model.training; } };
    const ids = nd.train.generate(wrapped, prompt, { maxNewTokens: 120, temperature: 0.8, topK: 10, contextLength: seqLen, generator: new nd.Generator(args.seed) });
    say(`sample: ${JSON.stringify(ids.map((i) => data.vocab[i]).join(''))}`);
  }
  const summary = {
    model: name,
    dataset: args.dataset,
    epochs: result.history.length,
    stopReason: result.stopReason,
    test: { loss: test.loss, accuracy: test.accuracy ?? null, perplexity: test.perplexity ?? null, samples: test.samples, ...taskMetric },
    best: result.best,
    trainSeconds: result.seconds,
    totalSeconds: (performance.now() - t0) / 1000,
    args,
  };
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const files = [result.files.metrics, result.files.plot, result.files.lastCheckpoint, result.files.bestCheckpoint].filter((f): f is string => !!f);
  say(`wrote ${[...files, join(outDir, 'summary.json')].join(', ')}`);
  say(`done in ${nd.train.formatDuration((performance.now() - t0) / 1000)}`);
  return 0;
}
