/**
 * Shared pieces of the CLI commands (Node-only): the output streams, the package version,
 * device selection, and reading what a checkpoint says about its model (`extra.meta`).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as nd from '../index.js';
import { UsageError } from './args.js';
import { modelEntry, type ModelConfig, type ModelEntry, type Task, type TrainDefaults } from './models.js';

/** The program name in messages. */
export const PROG = 'needle-ts';

/** Where a command writes: stdout for results and progress, stderr for errors and warnings. */
export interface CliIO {
  stdout: nd.train.OutputStream;
  stderr: nd.train.OutputStream;
}

/** Prints one line. */
export function println(stream: nd.train.OutputStream, line = ''): void {
  stream.write(`${line}\n`);
}

let versionCache: string | undefined;

/** needle-ts's version, from the package.json above this module (dist/cli or build/src/cli). */
export async function packageVersion(): Promise<string> {
  if (versionCache !== undefined) return versionCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pj = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pj.name === 'needle-ts') return (versionCache = pj.version ?? 'unknown');
    } catch {
      // not here; go up
    }
    dir = dirname(dir);
  }
  return (versionCache = 'unknown');
}

/** Makes `device` the default device, or a usage error naming the registered ones. */
export function useDevice(cmd: string, device: string | undefined): string {
  const devices = nd.listDevices();
  if (device === undefined) return nd.getDefaultDevice();
  if (!devices.includes(device)) throw new UsageError(`${cmd}: --device one of ${devices.join(', ')} (the registered backends), got ${JSON.stringify(device)}`);
  nd.setDefaultDevice(device);
  return device;
}

/** The training arguments the CLI records in checkpoints. */
export interface TrainArgs extends TrainDefaults {
  dataset: string;
  momentum: number;
  seed: number;
  clipGrad?: number;
  patience?: number;
  valSplit: number;
  limit?: number;
  device: string;
}

/** The settings of a model fitted by Newton's method (`train newton-logistic`). */
export interface NewtonArgs {
  dataset: string;
  /** The two classes: label 0, label 1. */
  classes: [number, number];
  /** The most Newton steps (--epochs). */
  maxSteps: number;
  /** The L2 penalty (--weight-decay). */
  l2: number;
  /** Stop at this gradient norm. */
  tol: number;
  limit?: number;
  seed: number;
  device: string;
}

/** What `train` stores in a checkpoint's `extra.meta`. */
export interface CheckpointMeta {
  /** The CLI model name (a key of MODELS). */
  model: string;
  config: ModelConfig;
  task: Task;
  dataset: string;
  /** Text models: the characters, in id order. */
  vocab?: string;
  /** Image models: class names. */
  classes?: readonly string[];
  /** The training settings (NewtonArgs for models with `solve`). */
  args: TrainArgs | NewtonArgs;
  version: string;
}

/** Whether stored settings are an optimizer run's (not Newton's). */
export function isTrainArgs(a: TrainArgs | NewtonArgs): a is TrainArgs {
  return typeof (a as Partial<TrainArgs>).optimizer === 'string';
}

/** Reads a checkpoint's `extra.meta` (without loading tensors) and its registry entry. */
export async function readCheckpointMeta(cmd: string, path: string): Promise<{ meta: CheckpointMeta; entry: ModelEntry; epoch: number | undefined }> {
  let header: nd.SafetensorsHeader;
  try {
    header = await nd.readHeader(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${cmd}: a readable checkpoint file, got ${JSON.stringify(path)} (${code ?? (e as Error).message})`);
  }
  const md = header.metadata ?? {};
  if (md['format'] !== nd.CHECKPOINT_FORMAT || md['extra'] === undefined) {
    throw new UsageError(`${cmd}: a checkpoint written by ${PROG} train, got ${JSON.stringify(path)} without model information`);
  }
  let extra: { meta?: CheckpointMeta };
  try {
    extra = JSON.parse(md['extra']) as { meta?: CheckpointMeta };
  } catch {
    throw new UsageError(`${cmd}: a checkpoint with valid metadata, got unparsable "extra" in ${JSON.stringify(path)}`);
  }
  const meta = extra.meta;
  if (!meta || typeof meta.model !== 'string' || typeof meta.config !== 'object') {
    throw new UsageError(`${cmd}: a checkpoint written by ${PROG} train (extra.meta.model), got none in ${JSON.stringify(path)}`);
  }
  const entry = modelEntry(meta.model);
  if (!entry) throw new UsageError(`${cmd}: a checkpoint of a known model, got model ${JSON.stringify(meta.model)}`);
  const epoch = md['epoch'] !== undefined ? Number(JSON.parse(md['epoch'])) : undefined;
  return { meta, entry, epoch };
}

/** Rebuilds the model of a checkpoint and loads its weights. */
export async function loadModel(path: string, meta: CheckpointMeta, entry: ModelEntry): Promise<nd.nn.Module> {
  const model = entry.build(meta.config);
  await nd.loadCheckpoint(path, { model });
  model.eval();
  return model;
}

/** Formats a parameter count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The number of parameters of a module. */
export function numParameters(model: nd.nn.Module): number {
  return model.parameters().reduce((a, p) => a + p.size, 0);
}

/**
 * The forward of a registry model for nd.train: through the entry's adapter when it has one
 * (text models: `(N, T) -> (N, T, V)`; sequence models: a batch -> what the loss compares with
 * batch[1]), else the model's own forward of batch[0].
 */
export function entryForward(entry: ModelEntry): nd.train.ForwardFn {
  return (model, batch) => {
    if (entry.forward) return entry.forward(model as unknown as nd.nn.Module, batch);
    return nd.train.defaultForward(model, batch);
  };
}

/** Mean cross-entropy over all positions of (N, T, V) logits and (N, T) targets. */
export function textLoss(): (out: nd.Tensor, y: nd.Tensor) => nd.Tensor {
  const ce = new nd.nn.CrossEntropyLoss();
  return (out, y) => {
    const v = out.shape[out.ndim - 1]!;
    return ce.forward(out.reshape([-1, v]), y.reshape([-1]));
  };
}
