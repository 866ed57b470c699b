/**
 * Module and Parameter: PyTorch's nn.Module conventions, camelCased. Parameters, buffers and
 * children are found by reflecting over the module's own properties at call time (no cached
 * registry), in definition order. State-dict keys are PyTorch's: dotted paths whose segments are
 * the property names converted to snake_case (`runningMean` -> `running_mean`,
 * `weightIhL0` -> `weight_ih_l0`), so a PyTorch state dict loads directly.
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { NDArray } from '../ndarray/ndarray.js';
import { fmtShape, rangeError, typeError } from '../errors.js';
import { shapesEqual } from '../ndarray/shape.js';

/** A tensor that is a module parameter (requires grad by default). */
export class Parameter extends Tensor {
  constructor(data: Tensor | NDArray, requiresGrad = true) {
    super(data instanceof Tensor ? data.array : data);
    if (requiresGrad) this.requiresGrad_(true);
  }
}

/** camelCase -> snake_case for state-dict keys (digits stay attached: weightIhL0 -> weight_ih_l0). */
export function toSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();
}

/** A state dict: PyTorch-style dotted keys to tensors. */
export type StateDict = Record<string, Tensor>;

/** Result of {@link Module.loadStateDict}. */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const BUFFERS = Symbol('buffers');
const NON_PERSISTENT = Symbol('nonPersistent');

/**
 * Base class of all layers. Subclasses assign parameters (`this.weight = new Parameter(...)`),
 * children (`this.fc = new Linear(...)`) and buffers (`this.registerBuffer('runningMean', t)`)
 * as properties and implement `forward`.
 */
export abstract class Module {
  /** Training mode (dropout active, batch statistics). `train()` / `eval()` set it recursively. */
  training = true;
  private [BUFFERS] = new Map<string, Tensor | null>();
  private [NON_PERSISTENT] = new Set<string>();

  /** The computation. Call it as `module.forward(x)`. */
  abstract forward(...args: never[]): unknown;

  /** Registers a buffer (state that is not a parameter, e.g. BatchNorm's running mean). */
  registerBuffer(name: string, value: Tensor | null, opts: { persistent?: boolean } = {}): void {
    if (value !== null && !(value instanceof Tensor)) throw typeError('registerBuffer', 'a Tensor or null', String(value));
    this[BUFFERS].set(name, value);
    if (opts.persistent === false) this[NON_PERSISTENT].add(name);
    Object.defineProperty(this, name, {
      configurable: true,
      enumerable: false,
      get: () => this[BUFFERS].get(name) ?? null,
      set: (v: Tensor | null) => this[BUFFERS].set(name, v),
    });
  }

  /** Direct parameters, as [propertyName, Parameter]. */
  private ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) out.push([k, v]);
    return out;
  }

  /** Direct children, as [propertyName, Module]. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) out.push([k, v]);
    return out;
  }

  /** Direct children. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all descendants with dotted (snake_case) names; '' is this module. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(join(prefix, toSnake(k))));
    return out;
  }

  /** This module and all descendants. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with PyTorch-style dotted names (each parameter once, even if shared). */
  namedParameters(prefix = '', recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [path, m] of mods) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([join(path, toSnake(k)), p]);
      }
    }
    return out;
  }

  /** All parameters (recursively). */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters('', recurse).map(([, p]) => p);
  }

  /** Buffers with dotted names. */
  namedBuffers(prefix = '', recurse = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [path, m] of mods) {
      for (const [k, b] of m[BUFFERS]) if (b) out.push([join(path, toSnake(k)), b]);
    }
    return out;
  }

  /** All buffers (recursively). */
  buffers(recurse = true): Tensor[] {
    return this.namedBuffers('', recurse).map(([, b]) => b);
  }

  /** Sets training mode recursively. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode recursively (train(false)). */
  eval(): this {
    return this.train(false);
  }

  /** Clears parameter gradients (to null by default, as PyTorch 2; or to zeros). */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (opts.setToNone === false && p.grad) p.grad = new Tensor(NDArray.full(p.shape, 0, p.dtype, p.device));
      else p.grad = null;
    }
  }

  /** Calls `fn` on every module (children first, then this), as PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Moves every parameter and buffer to `device` in place (identity kept, so optimizers still hold them). */
  to(device: string): this {
    for (const t of [...this.parameters(), ...this.buffers()]) {
      if (t.device === device) continue;
      t.array = NDArray.fromData(t.array.dataSync(), t.shape, t.dtype, device);
      if (t.grad) t.grad = new Tensor(NDArray.fromData(t.grad.array.dataSync(), t.shape, t.dtype, device));
    }
    return this;
  }

  /** Total number of parameter elements. */
  get numParameters(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  /** Parameters and persistent buffers under PyTorch's dotted keys (detached, sharing storage). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, m] of this.namedModules()) {
      for (const [k, p] of m.ownParameters()) out[join(path, toSnake(k))] = p.detach();
      for (const [k, b] of m[BUFFERS]) {
        if (b && !m[NON_PERSISTENT].has(k)) out[join(path, toSnake(k))] = b.detach();
      }
    }
    return out;
  }

  /**
   * Copies values from `dict` into parameters and persistent buffers (in place, so optimizers and
   * shared references see them). `strict` (default true) makes missing or unexpected keys an
   * error; shape mismatches are always an error. Values are converted to each target's dtype.
   */
  loadStateDict(dict: StateDict, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const targets = new Map<string, Tensor>();
    for (const [path, m] of this.namedModules()) {
      for (const [k, p] of m.ownParameters()) targets.set(join(path, toSnake(k)), p);
      for (const [k, b] of m[BUFFERS]) if (b && !m[NON_PERSISTENT].has(k)) targets.set(join(path, toSnake(k)), b);
    }
    const missingKeys = Object.keys(own).filter((k) => !(k in dict));
    const unexpectedKeys = Object.keys(dict).filter((k) => !targets.has(k));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      throw rangeError(
        'loadStateDict',
        'the keys of the module (strict)',
        `missing [${missingKeys.join(', ')}], unexpected [${unexpectedKeys.join(', ')}]`,
      );
    }
    for (const [k, v] of Object.entries(dict)) {
      const t = targets.get(k);
      if (!t) continue;
      if (!(v instanceof Tensor)) throw typeError('loadStateDict', `a Tensor for key ${k}`, String(v));
      if (!shapesEqual(v.shape, t.shape)) {
        throw rangeError('loadStateDict', `a tensor of shape ${fmtShape(t.shape)} for key ${k}`, fmtShape(v.shape));
      }
    }
    noGrad(() => {
      for (const [k, v] of Object.entries(dict)) {
        const t = targets.get(k);
        if (!t) continue;
        t.array = NDArray.fromData(v.array.astype(t.dtype).dataSync(), t.shape, t.dtype, t.device);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** A one-line-per-module summary, like PyTorch's repr. */
  toString(): string {
    const lines = [`${this.constructor.name}(${this.extraRepr()}`];
    for (const [k, m] of this.namedChildren()) lines.push(`  (${toSnake(k)}): ${m.toString().split('\n').join('\n  ')}`);
    return lines.length === 1 ? `${lines[0]})` : `${lines.join('\n')}\n)`;
  }

  /** Extra text inside the repr's parentheses (override in layers). */
  extraRepr(): string {
    return '';
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
