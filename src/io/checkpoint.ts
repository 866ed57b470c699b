/**
 * Training checkpoints as one safetensors file.
 *
 * Tensors: the model state under `model.<key>`, and every tensor found in the optimizer,
 * scheduler and `extra` states under `optimizer.<path>`, `scheduler.<path>`, `extra.<path>`
 * (the path of the tensor in that state, e.g. `optimizer.state.0.exp_avg`).
 * `__metadata__` (strings only): `format` = `needle-ts-checkpoint`, `version` = `1`, and, when
 * given, `epoch`, `optimizer`, `scheduler`, `extra` and `generator` as JSON, in which each tensor
 * is replaced by `{"$tensor": "<its tensor name>"}`.
 *
 * Optimizers, schedulers and generators are used through small structural interfaces
 * (`stateDict()` / `loadStateDict()`, `getState()` / `setState()`), so anything with those
 * methods can be checkpointed.
 */
import { Tensor } from '../autograd/tensor.js';
import { rangeError, typeError } from '../errors.js';
import { deserializeWithMetadata, serialize, setOwn, type SafetensorsContents } from './safetensors.js';
import { loadContents, writeFileAtomic } from './node.js';

/** The `format` metadata value of checkpoints. */
export const CHECKPOINT_FORMAT = 'needle-ts-checkpoint';
const VERSION = '1';

/** A model: anything with PyTorch-style `stateDict()` / `loadStateDict()` (e.g. `nn.Module`). */
export interface ModelLike {
  stateDict(): Record<string, Tensor>;
  loadStateDict(dict: Record<string, Tensor>, opts?: { strict?: boolean }): unknown;
}

/**
 * An optimizer or LR scheduler: `stateDict()` returns plain objects / arrays / Maps of numbers,
 * strings, booleans, null and Tensors; `loadStateDict()` takes the same structure back.
 */
export interface StatefulLike {
  stateDict(): unknown;
  loadStateDict(state: unknown): unknown;
}

/** A random generator whose state is a list of numbers (e.g. `nd.Generator`). */
export interface GeneratorLike {
  getState(): readonly number[];
  setState(state: readonly number[]): unknown;
}

/** What {@link saveCheckpoint} stores. */
export interface CheckpointState {
  model: ModelLike;
  optimizer?: StatefulLike;
  scheduler?: StatefulLike;
  /** A number stored as is (e.g. the number of completed epochs). */
  epoch?: number;
  /** Any JSON-like value; may contain tensors. */
  extra?: unknown;
  /** Its state is stored so random streams (dropout, shuffling) continue identically. */
  generator?: GeneratorLike;
}

/** Where {@link loadCheckpoint} restores to. Every target given must be in the checkpoint. */
export interface CheckpointTargets {
  model: ModelLike;
  optimizer?: StatefulLike;
  scheduler?: StatefulLike;
  generator?: GeneratorLike;
  /** Passed to `model.loadStateDict` (default true: keys must match exactly). */
  strict?: boolean;
  /** Device of the tensors handed to the optimizer/scheduler and returned in `extra`. */
  device?: string;
}

/** What {@link loadCheckpoint} returns. */
export interface CheckpointInfo {
  epoch: number | undefined;
  extra: unknown;
}

// ------------------------------------------------------------------------- encoding states

const SPECIAL_NUMBERS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

class Encoder {
  readonly tensors = new Map<string, Tensor>();
  private readonly active = new Set<object>();

  constructor(private readonly fn: string) {}

  private key(path: string): string {
    let k = path;
    for (let i = 2; this.tensors.has(k); i++) k = `${path}#${i}`;
    return k;
  }

  encode(v: unknown, path: string): unknown {
    if (v instanceof Tensor) {
      const k = this.key(path);
      this.tensors.set(k, v);
      return { $tensor: k };
    }
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (v === undefined) return { $undefined: true };
    if (typeof v === 'number') {
      if (Number.isFinite(v) && !Object.is(v, -0)) return v;
      return { $number: Object.is(v, -0) ? '-0' : String(v) };
    }
    if (typeof v !== 'object') throw typeError(this.fn, `JSON-like state (objects, arrays, Maps, numbers, strings, booleans, null, Tensors) at ${path}`, typeof v);
    if (this.active.has(v)) throw typeError(this.fn, `acyclic state at ${path}`, 'a reference cycle');
    this.active.add(v);
    try {
      if (Array.isArray(v)) return v.map((x, i) => this.encode(x, `${path}.${i}`));
      if (v instanceof Map) {
        return { $map: [...v.entries()].map(([k, x], i) => [this.encode(k, `${path}.$key${i}`), this.encode(x, `${path}.${String(k)}`)]) };
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw typeError(this.fn, `JSON-like state (objects, arrays, Maps, numbers, strings, booleans, null, Tensors) at ${path}`, `an instance of ${(v as object).constructor?.name ?? 'a class'}`);
      }
      const out: Record<string, unknown> = {};
      let escaped = false;
      for (const [k, x] of Object.entries(v)) {
        if (k.startsWith('$')) escaped = true;
        setOwn(out, k, this.encode(x, `${path}.${k}`));
      }
      return escaped ? { $object: out } : out;
    } finally {
      this.active.delete(v);
    }
  }
}

class Decoder {
  readonly used = new Set<string>();

  constructor(private readonly fn: string, private readonly tensors: Record<string, Tensor>, private readonly prefix: string) {}

  decode(v: unknown): unknown {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => this.decode(x));
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0]!.startsWith('$')) {
      const marker = keys[0]!;
      const x = obj[marker];
      switch (marker) {
        case '$tensor': {
          if (typeof x !== 'string' || !x.startsWith(this.prefix) || !Object.prototype.hasOwnProperty.call(this.tensors, x)) {
            throw rangeError(this.fn, `a tensor reference to a tensor named ${this.prefix}* in the file`, JSON.stringify(x));
          }
          this.used.add(x);
          return this.tensors[x];
        }
        case '$number':
          if (typeof x !== 'string' || !Object.prototype.hasOwnProperty.call(SPECIAL_NUMBERS, x)) {
            throw typeError(this.fn, 'a special number (NaN, Infinity, -Infinity, -0)', JSON.stringify(x));
          }
          return SPECIAL_NUMBERS[x];
        case '$undefined':
          return undefined;
        case '$map':
          if (!Array.isArray(x) || !x.every((e) => Array.isArray(e) && e.length === 2)) {
            throw typeError(this.fn, 'a $map of [key, value] pairs', JSON.stringify(x).slice(0, 80));
          }
          return new Map((x as [unknown, unknown][]).map(([k, y]) => [this.decode(k), this.decode(y)]));
        case '$object':
          if (x === null || typeof x !== 'object' || Array.isArray(x)) throw typeError(this.fn, 'an object in $object', JSON.stringify(x));
          return this.plain(x as Record<string, unknown>);
        default:
          throw typeError(this.fn, 'a known marker ($tensor, $number, $undefined, $map, $object)', JSON.stringify(marker));
      }
    }
    return this.plain(obj);
  }

  private plain(obj: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(obj)) setOwn(out, k, this.decode(x));
    return out;
  }
}

// ------------------------------------------------------------------------------- checkpoint

function checkState(fn: string, state: CheckpointState): void {
  if (state === null || typeof state !== 'object') throw typeError(fn, 'a state object {model, optimizer?, ...}', String(state));
  const m = state.model as unknown as Record<string, unknown> | undefined;
  if (!m || typeof m.stateDict !== 'function' || typeof m.loadStateDict !== 'function') {
    throw typeError(fn, 'a model with stateDict() and loadStateDict()', m === undefined ? 'undefined' : typeof m);
  }
  for (const k of ['optimizer', 'scheduler'] as const) {
    const o = state[k] as unknown as Record<string, unknown> | undefined;
    if (o !== undefined && (o === null || typeof o.stateDict !== 'function' || typeof o.loadStateDict !== 'function')) {
      throw typeError(fn, `${k} with stateDict() and loadStateDict()`, o === null ? 'null' : typeof o);
    }
  }
  const g = (state as { generator?: unknown }).generator as Record<string, unknown> | undefined;
  if (g !== undefined && (g === null || typeof g.getState !== 'function' || typeof g.setState !== 'function')) {
    throw typeError(fn, 'a generator with getState() and setState()', g === null ? 'null' : typeof g);
  }
}

/**
 * Serializes a checkpoint to safetensors bytes (browser-safe). See {@link saveCheckpoint}.
 */
export function checkpointToBytes(state: CheckpointState, fn = 'checkpointToBytes'): Uint8Array {
  checkState(fn, state);
  const tensors: Record<string, Tensor> = {};
  const metadata: Record<string, string> = { format: CHECKPOINT_FORMAT, version: VERSION };
  const model = state.model.stateDict();
  for (const [k, t] of Object.entries(model)) {
    if (!(t instanceof Tensor)) throw typeError(fn, `a Tensor in the model state for key ${JSON.stringify(k)}`, typeof t);
    setOwn(tensors, `model.${k}`, t);
  }
  for (const part of ['optimizer', 'scheduler', 'extra'] as const) {
    let value: unknown;
    if (part === 'extra') {
      if (!('extra' in state) || state.extra === undefined) continue;
      value = state.extra;
    } else {
      const s = state[part];
      if (!s) continue;
      value = s.stateDict();
    }
    const enc = new Encoder(fn);
    const json = enc.encode(value, part);
    for (const [k, t] of enc.tensors) setOwn(tensors, k, t);
    metadata[part] = JSON.stringify(json);
  }
  if (state.epoch !== undefined) {
    if (typeof state.epoch !== 'number' || !Number.isFinite(state.epoch)) throw typeError(fn, 'a finite number epoch', String(state.epoch));
    metadata['epoch'] = JSON.stringify(state.epoch);
  }
  if (state.generator) {
    const g = [...state.generator.getState()];
    if (!g.every((x) => Number.isSafeInteger(x))) throw typeError(fn, 'a generator state of integers', JSON.stringify(g).slice(0, 80));
    metadata['generator'] = JSON.stringify(g);
  }
  return serialize(tensors, metadata, fn);
}

function parseJson(fn: string, meta: Record<string, string>, key: string): unknown {
  try {
    return JSON.parse(meta[key]!);
  } catch {
    throw typeError(fn, `valid JSON in checkpoint metadata "${key}"`, JSON.stringify(meta[key]!.slice(0, 60)));
  }
}

/**
 * Restores a checkpoint from its file contents. Everything in the file is validated (format,
 * JSON, tensor references, that each requested target's state is present, the generator state)
 * before any target changes; the model is then loaded first (its loadStateDict validates keys and
 * shapes before it writes), then the optimizer, scheduler and generator.
 */
function restore(fn: string, contents: SafetensorsContents, targets: CheckpointTargets): CheckpointInfo {
  if (targets === null || typeof targets !== 'object') throw typeError(fn, 'targets {model, optimizer?, ...}', String(targets));
  checkState(fn, targets);
  const meta = contents.metadata;
  if (!meta || meta['format'] !== CHECKPOINT_FORMAT) {
    throw typeError(fn, `a needle-ts checkpoint (metadata format "${CHECKPOINT_FORMAT}")`, meta && meta['format'] !== undefined ? `format ${JSON.stringify(meta['format'])}` : 'no format metadata');
  }
  if (meta['version'] !== VERSION) throw rangeError(fn, `checkpoint version ${VERSION}`, JSON.stringify(meta['version'] ?? null));

  const modelDict: Record<string, Tensor> = {};
  const prefixes = ['model.', 'optimizer', 'scheduler', 'extra'];
  for (const [k, t] of Object.entries(contents.tensors)) {
    if (k.startsWith('model.')) setOwn(modelDict, k.slice(6), t);
    else if (!prefixes.some((p) => k === p || k.startsWith(`${p}.`) || k.startsWith(`${p}#`))) {
      throw rangeError(fn, 'tensor names starting with model., optimizer, scheduler or extra', JSON.stringify(k));
    }
  }

  const parts: Record<string, unknown> = {};
  const used = new Set<string>();
  for (const part of ['optimizer', 'scheduler', 'extra'] as const) {
    if (!(part in meta)) {
      if (part !== 'extra' && targets[part]) {
        throw rangeError(fn, `a checkpoint with ${part} state (an ${part} was passed)`, `no ${part} state`);
      }
      continue;
    }
    const dec = new Decoder(fn, contents.tensors, part);
    parts[part] = dec.decode(parseJson(fn, meta, part));
    for (const k of dec.used) used.add(k);
  }
  for (const k of Object.keys(contents.tensors)) {
    if (!k.startsWith('model.') && !used.has(k)) throw rangeError(fn, 'every non-model tensor referenced by the metadata', `unreferenced ${JSON.stringify(k)}`);
  }

  let epoch: number | undefined;
  if ('epoch' in meta) {
    const e = parseJson(fn, meta, 'epoch');
    if (typeof e !== 'number') throw typeError(fn, 'a number epoch', JSON.stringify(e));
    epoch = e;
  }
  let genState: number[] | undefined;
  if (targets.generator) {
    if (!('generator' in meta)) throw rangeError(fn, 'a checkpoint with generator state (a generator was passed)', 'no generator state');
    const g = parseJson(fn, meta, 'generator');
    if (!Array.isArray(g) || g.length < 2 || !g.every((x) => Number.isSafeInteger(x) && x >= 0)) {
      throw typeError(fn, 'a generator state of non-negative integers', JSON.stringify(g).slice(0, 80));
    }
    genState = g as number[];
  }

  targets.model.loadStateDict(modelDict, { strict: targets.strict ?? true });
  if (targets.optimizer) targets.optimizer.loadStateDict(parts['optimizer']);
  if (targets.scheduler) targets.scheduler.loadStateDict(parts['scheduler']);
  if (targets.generator && genState) targets.generator.setState(genState);
  return { epoch, extra: parts['extra'] };
}

/** Restores a checkpoint from bytes (browser-safe). See {@link loadCheckpoint}. */
export function checkpointFromBytes(bytes: ArrayBuffer | Uint8Array, targets: CheckpointTargets): CheckpointInfo {
  const fn = 'checkpointFromBytes';
  return restore(fn, deserializeWithMetadata(bytes, { device: targets?.device }, fn), targets);
}

/**
 * Saves model, optimizer, scheduler, generator state, epoch and extra data to one safetensors
 * file (Node; written atomically).
 *
 * @example
 * await nd.saveCheckpoint('ckpt.safetensors', { model, optimizer, epoch, generator: nd.defaultGenerator });
 */
export async function saveCheckpoint(path: string, state: CheckpointState): Promise<void> {
  const bytes = checkpointToBytes(state, 'saveCheckpoint');
  if (typeof path !== 'string' || path.length === 0) throw typeError('saveCheckpoint', 'a file path string', typeof path);
  await writeFileAtomic('saveCheckpoint', path, bytes);
}

/**
 * Loads a checkpoint written by {@link saveCheckpoint} into the given model (and optimizer,
 * scheduler, generator: each one given must have its state in the file) and returns the stored
 * epoch and extra data (Node).
 *
 * @example
 * const { epoch } = await nd.loadCheckpoint('ckpt.safetensors', { model, optimizer, generator: nd.defaultGenerator });
 */
export async function loadCheckpoint(path: string, targets: CheckpointTargets): Promise<CheckpointInfo> {
  const fn = 'loadCheckpoint';
  const contents = await loadContents(fn, path, { device: targets?.device });
  return restore(fn, contents, targets);
}
