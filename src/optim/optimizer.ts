/**
 * The optimizer base: PyTorch's param groups, zeroGrad, step(closure) and state dicts, with the
 * update itself written as a chain of small gradient transforms (see transforms.ts). An optimizer
 * is a name, its default hyperparameters, a validation rule and a chain; SGD, Adam, AdamW, RMSprop
 * and Adagrad in optimizers.ts are a few lines each, and so is a new one.
 *
 * Updates run under noGrad and assign a new NDArray to `param.array`, so parameters keep their
 * identity (modules and optimizers still hold them) and never grow the graph.
 */
import { Tensor } from '../autograd/tensor.js';
import { enableGrad, noGrad } from '../autograd/mode.js';
import { NDArray } from '../ndarray/ndarray.js';
import { isFloating } from '../ndarray/dtype.js';
import { add } from '../ops/primitives.js';
import { inScope, stateChanged } from '../autograd/scope.js';
import { fmtShape, rangeError, typeError } from '../errors.js';
import { toSnake } from '../nn/module.js';

/** The hyperparameter every optimizer has. */
export interface BaseHyper {
  lr: number;
}

/** Keys that LR schedulers add to param groups (PyTorch's initial_lr, max_lr, ...). */
export interface SchedulerGroupKeys {
  initialLr?: number;
  maxLr?: number;
  minLr?: number;
  maxMomentum?: number;
  baseMomentum?: number;
}

/** A param group: its parameters and its own copy of every hyperparameter. */
export type ParamGroup<H extends BaseHyper = BaseHyper> = H & SchedulerGroupKeys & { params: Tensor[] };

/** A param group as passed to a constructor or `addParamGroup`: options not given take the defaults. */
export type ParamGroupSpec<H extends BaseHyper = BaseHyper> = Partial<H> & {
  params: Iterable<Tensor> | Tensor;
  [extra: string]: unknown;
};

/** What optimizers accept: parameters, or param groups. */
export type Params<H extends BaseHyper = BaseHyper> = Iterable<Tensor> | Iterable<ParamGroupSpec<H>>;

/** Per-parameter optimizer state (moment estimates, step counts), camelCase keys. */
export type ParamState = Record<string, Tensor | number>;

/** What a transform sees for one parameter. */
export interface UpdateContext<H> {
  readonly param: Tensor;
  readonly group: H;
  readonly state: ParamState;
}

/**
 * One stage of an update: maps the incoming direction (the gradient for the first stage) to the
 * next; the chain's result is added to the parameter. Transforms read hyperparameters from the
 * group at every step (so schedulers and per-group options work) and keep state in `ctx.state`.
 */
export type Transform<H> = (update: Tensor, ctx: UpdateContext<H>) => Tensor;

/**
 * A fused form of a whole chain for one parameter (e.g. Adam in one backend kernel): updates
 * `ctx.state` exactly as the chain would and returns the parameter's new array, or returns null
 * (having changed nothing) where it does not apply, and the chain runs.
 */
export type FusedUpdate<H> = (grad: Tensor, ctx: UpdateContext<H>) => NDArray | null;

/** Checks a complete param group; throws in the error grammar. */
export type GroupCheck<H> = (group: H, name: string) => void;

/**
 * An optimizer's update and validation (method syntax, so an Optimizer<SGDHyper> is usable where
 * an Optimizer<BaseHyper> is expected, e.g. by schedulers).
 */
interface Rules<H> {
  update(grad: Tensor, ctx: UpdateContext<H>): Tensor;
  fused(grad: Tensor, ctx: UpdateContext<H>): NDArray | null;
  check(group: H, name: string): void;
}

/** An optimizer state dict in PyTorch's layout (snake_case keys, params as global indices). */
export interface OptimizerStateDict {
  /** Per-parameter state keyed by the parameter's index across all groups. */
  state: Record<string, Record<string, Tensor | number>>;
  /** Each group's hyperparameters and its parameters' indices. */
  param_groups: Array<{ params: number[]; [key: string]: unknown }>;
}

/** snake_case -> camelCase (the inverse of nn's toSnake for our keys). */
export function toCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function describeValue(v: unknown): string {
  if (v instanceof Tensor) return `Tensor(shape=${fmtShape(v.shape)}, dtype=${v.dtype})`;
  if (Array.isArray(v)) return `[${v.map(describeValue).join(',')}]`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Copies hyperparameter values (arrays are copied, so groups never share a betas array). */
function copyValue<T>(v: T): T {
  return (Array.isArray(v) ? v.map(copyValue) : v) as T;
}

/**
 * The general optimizer: param groups (PyTorch semantics), zeroGrad, step(closure) and
 * stateDict/loadStateDict, with the per-parameter update given as a chain of transforms.
 *
 * @example
 * // a new optimizer in a few lines: sign-SGD with decoupled weight decay
 * type SignHyper = { lr: number; weightDecay: number };
 * const signSgd = new nd.optim.Optimizer<SignHyper>('SignSGD', model.parameters(), { lr: 0.01, weightDecay: 0 }, [
 *   (g) => nd.sign(g),
 *   nd.optim.transforms.addWeightDecay,
 *   nd.optim.transforms.scaleByLr,
 * ]);
 */
export class Optimizer<H extends BaseHyper = BaseHyper> {
  /** Name used in error messages (`SGD: lr must be >= 0, got -1`). */
  readonly name: string;
  /** Default hyperparameters (`lr` may be absent where every group must give it, as SGD's). */
  readonly defaults: Readonly<Omit<H, 'lr'> & { lr?: number }>;
  /** The param groups; schedulers and users may change their hyperparameters between steps. */
  paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created at a parameter's first update. */
  readonly state = new Map<Tensor, ParamState>();
  /** Number of completed `step()` calls. */
  stepCount = 0;
  private readonly rules: Rules<H>;

  constructor(
    name: string,
    params: Params<H>,
    defaults: Omit<H, 'lr'> & { lr?: number },
    chain: readonly Transform<H>[],
    check?: GroupCheck<H>,
    fused?: FusedUpdate<H>,
  ) {
    this.name = name;
    this.defaults = { ...defaults };
    this.rules = {
      update(grad, ctx) {
        let u = grad;
        for (const t of chain) u = t(u, ctx);
        return u;
      },
      fused(grad, ctx) {
        return fused ? fused(grad, ctx) : null;
      },
      check(group, n) {
        check?.(group, n);
      },
    };
    if (params instanceof Tensor) {
      throw typeError(name, 'params to be an iterable of Tensors or of param groups', 'a single Tensor');
    }
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw typeError(name, 'params to be an iterable of Tensors or of param groups', describeValue(params));
    }
    const list = Array.from(params as Iterable<unknown>);
    if (list.length === 0) throw rangeError(name, 'a non-empty list of parameters', 'an empty list');
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupSpec<H>] : (list as ParamGroupSpec<H>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /**
   * Adds a param group (e.g. layers unfrozen during fine-tuning). Options it does not give take
   * the optimizer's defaults; a parameter may belong to one group only.
   */
  addParamGroup(spec: ParamGroupSpec<H>): void {
    const name = this.name;
    if (spec === null || typeof spec !== 'object' || spec instanceof Tensor || !('params' in spec)) {
      throw typeError(name, 'a param group: an object with a params field', describeValue(spec));
    }
    const raw = spec.params;
    let params: unknown[];
    if (raw instanceof Tensor) params = [raw];
    else if (raw !== null && typeof raw === 'object' && typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') params = Array.from(raw as Iterable<unknown>);
    else throw typeError(name, 'params to be a Tensor or an iterable of Tensors', describeValue(raw));
    const seen = new Set<Tensor>();
    for (const p of params) {
      if (!(p instanceof Tensor)) throw typeError(name, 'every parameter to be a Tensor', describeValue(p));
      if (!isFloating(p.dtype)) throw typeError(name, 'floating-point parameters', `a parameter of dtype ${p.dtype}`);
      if (!p.isLeaf) throw typeError(name, 'leaf tensors as parameters (can not optimize a non-leaf Tensor)', `a tensor made by ${p.node!.op.name}`);
      if (seen.has(p)) throw rangeError(name, 'each parameter once in a param group', 'a parameter listed twice');
      seen.add(p);
    }
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (seen.has(p)) throw rangeError(name, 'each parameter in one param group only', 'a parameter that is already in a group');
      }
    }
    const group: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.defaults)) group[k] = copyValue(v);
    for (const [k, v] of Object.entries(spec)) if (k !== 'params' && v !== undefined) group[k] = copyValue(v);
    group.params = params as Tensor[];
    this.validate(group);
    this.paramGroups.push(group as unknown as ParamGroup<H>);
  }

  /** Checks the kinds of a group's values (from the defaults) and the optimizer's own rules. */
  private validate(group: Record<string, unknown>): void {
    const name = this.name;
    if (group.lr === undefined) throw typeError(name, 'lr to be given (in the options or in every param group)', 'undefined');
    const kinds: [string, unknown][] = [['lr', 0], ...Object.entries(this.defaults)];
    for (const [k, d] of kinds) {
      const v = group[k];
      if (d === undefined) continue;
      if (typeof d === 'number' && typeof v !== 'number') throw typeError(name, `${k} must be a number`, describeValue(v));
      if (typeof d === 'boolean' && typeof v !== 'boolean') throw typeError(name, `${k} must be a boolean`, describeValue(v));
      if (Array.isArray(d)) {
        if (!Array.isArray(v) || v.length !== d.length || v.some((x) => typeof x !== 'number')) {
          throw typeError(name, `${k} must be an array of ${d.length} numbers`, describeValue(v));
        }
      }
    }
    nonNegative('lr')(group as never, name);
    this.rules.check(group as H, name);
  }

  /**
   * Clears the gradients of every parameter: to null (default, as PyTorch 2) or, with
   * `{ setToNone: false }`, to zeros in place (the grad tensor object is kept).
   */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const setToNone = opts.setToNone ?? true;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (setToNone) p.grad = null;
        else {
          p.grad.node = null;
          p.grad.requiresGrad = false;
          p.grad.array = NDArray.full(p.grad.shape, 0, p.grad.dtype, p.grad.device);
        }
      }
    }
  }

  /**
   * Performs one update of every parameter that has a gradient. `closure`, when given,
   * re-evaluates the model (zeroGrad, forward, backward) and returns the loss, which step returns.
   */
  step<L = Tensor | number>(closure?: () => L): L | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const grad = p.grad;
          if (!grad) continue;
          let state = this.state.get(p);
          if (!state) {
            state = {};
            this.state.set(p, state);
          }
          const ctx = { param: p, group, state };
          // inside nd.scope, new state tensors must outlive it and replaced ones may be freed
          const before = inScope() ? { ...state } : null;
          p.array = this.rules.fused(grad, ctx) ?? add(p, this.rules.update(grad, ctx)).array;
          if (before) stateChanged(before, state);
        }
      }
    });
    this.stepCount++;
    return loss;
  }

  /**
   * The optimizer's state in PyTorch's layout: `state` keyed by each parameter's index across
   * groups (snake_case keys: exp_avg, momentum_buffer, step, ...; tensors as Tensors, step as a
   * number), and `param_groups` with every hyperparameter (snake_case) and the indices of its
   * parameters. The tensors are snapshots: later steps do not change them.
   */
  stateDict(): OptimizerStateDict {
    const state: OptimizerStateDict['state'] = {};
    const groups: OptimizerStateDict['param_groups'] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const packed: { params: number[]; [key: string]: unknown } = { params: [] };
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[toSnake(k)] = copyValue(v);
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) {
          const out: Record<string, Tensor | number> = {};
          // copies: fused updates (Adam's) change their state tensors in place
          for (const [k, v] of Object.entries(s)) out[toSnake(k)] = v instanceof Tensor ? new Tensor(v.array.clone()) : v;
          state[String(index)] = out;
        }
        packed.params.push(index++);
      }
      groups.push(packed);
    }
    return { state, param_groups: groups };
  }

  /**
   * Loads a state dict from {@link stateDict} (or one in the same layout): hyperparameters of every
   * group and per-parameter state, matched by index. Tensors are copied and cast to their
   * parameter's dtype and device (except `step`, which may be a number or a one-element Tensor).
   * Nothing changes when the dict does not fit.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = `${this.name}.loadStateDict`;
    if (dict === null || typeof dict !== 'object' || !Array.isArray(dict.param_groups) || dict.state === null || typeof dict.state !== 'object') {
      throw typeError(name, 'an object with state and param_groups', describeValue(dict));
    }
    const saved = dict.param_groups;
    if (saved.length !== this.paramGroups.length) {
      throw rangeError(name, `${this.paramGroups.length} param groups`, `${saved.length}`);
    }
    const byIndex = new Map<string, Tensor>();
    const newGroups: ParamGroup<H>[] = [];
    saved.forEach((sg, i) => {
      const g = this.paramGroups[i]!;
      if (!sg || !Array.isArray(sg.params) || sg.params.length !== g.params.length) {
        throw rangeError(name, `param group ${i} with ${g.params.length} parameters`, `${Array.isArray(sg?.params) ? sg.params.length : 'none'}`);
      }
      sg.params.forEach((idx, j) => byIndex.set(String(idx), g.params[j]!));
      // keys the dict lacks (an older or hand-written dict) keep their current values
      const group: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') group[k] = copyValue(v);
      for (const [k, v] of Object.entries(sg)) if (k !== 'params') group[toCamel(k)] = copyValue(v);
      group.params = g.params;
      this.validate(group);
      newGroups.push(group as unknown as ParamGroup<H>);
    });
    const newState = new Map<Tensor, ParamState>();
    for (const [idx, s] of Object.entries(dict.state)) {
      const p = byIndex.get(idx);
      if (!p) throw rangeError(name, 'state keyed by the indices of the param groups', `state for unknown index ${idx}`);
      if (s === null || typeof s !== 'object') throw typeError(name, `an object as the state of parameter ${idx}`, describeValue(s));
      const out: ParamState = {};
      for (const [k, v] of Object.entries(s)) {
        const key = toCamel(k);
        if (key === 'step') {
          const n = v instanceof Tensor ? v.item() : v;
          if (typeof n !== 'number') throw typeError(name, `step of parameter ${idx} to be a number`, describeValue(v));
          out.step = n;
        } else if (v instanceof Tensor) {
          if (v.size !== p.size || v.shape.join() !== p.shape.join()) {
            throw rangeError(name, `${k} of parameter ${idx} with shape ${fmtShape(p.shape)}`, fmtShape(v.shape));
          }
          out[key] = new Tensor(copyTo(v.array, p));
        } else if (typeof v === 'number') {
          out[key] = v;
        } else {
          throw typeError(name, `Tensors or numbers in the state of parameter ${idx}`, `${k}: ${describeValue(v)}`);
        }
      }
      newState.set(p, out);
    }
    this.paramGroups = newGroups;
    this.state.clear();
    for (const [p, s] of newState) {
      this.state.set(p, s);
      if (inScope()) stateChanged({}, s);
    }
  }
}

/** A fresh compact copy of `a` with the dtype and device of `p`. */
function copyTo(a: NDArray, p: Tensor): NDArray {
  const cast = a.astype(p.dtype);
  if (cast.device !== p.device) return NDArray.fromData(cast.dataSync(), p.shape, p.dtype, p.device);
  return cast === a ? a.clone() : cast;
}

// ---------------------------------------------------------------- validation helpers

/** `key` must be >= 0. */
export function nonNegative<H>(key: keyof H & string): GroupCheck<H> {
  return (g, name) => {
    const v = (g as Record<string, unknown>)[key] as number;
    if (!(v >= 0)) throw rangeError(name, `${key} must be >= 0`, String(v));
  };
}

/** `key` must be in [0, 1) (a decay rate or a beta). */
export function unitInterval<H>(key: string, value: (g: H) => number): GroupCheck<H> {
  return (g, name) => {
    const v = value(g);
    if (!(v >= 0 && v < 1)) throw rangeError(name, `${key} must be in [0, 1)`, String(v));
  };
}

/** Runs several checks. */
export function allOf<H>(...checks: GroupCheck<H>[]): GroupCheck<H> {
  return (g, name) => {
    for (const c of checks) c(g, name);
  };
}

/**
 * `defaults` overridden by the options the user gave; unknown option names are a TypeError
 * (a misspelled option must not be ignored silently).
 */
export function withDefaults<D extends object>(name: string, defaults: D, opts: object, extra: readonly string[] = []): D {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw typeError(name, 'an options object', describeValue(opts));
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  const known = [...Object.keys(defaults), ...extra];
  for (const [k, v] of Object.entries(opts)) {
    if (!known.includes(k)) throw typeError(name, `options among ${known.join(', ')}`, `unknown option ${k}`);
    if (v === undefined) continue;
    const d = (defaults as Record<string, unknown>)[k];
    if (typeof d === 'number' && typeof v !== 'number') throw typeError(name, `${k} must be a number`, describeValue(v));
    if (typeof d === 'boolean' && typeof v !== 'boolean') throw typeError(name, `${k} must be a boolean`, describeValue(v));
    if (Array.isArray(d) && (!Array.isArray(v) || v.length !== d.length || v.some((x) => typeof x !== 'number'))) {
      throw typeError(name, `${k} must be an array of ${d.length} numbers`, describeValue(v));
    }
    out[k] = copyValue(v);
  }
  return out as D;
}
