/**
 * Recurrent layers with PyTorch's semantics and parameter layouts: RNNCell / RNN (tanh or relu),
 * LSTMCell / LSTM (gates i, f, g, o) and GRUCell / GRU (gates r, z, n). Every step is a composite
 * of primitives (matmul, add, sigmoid, tanh, chunk), so gradients of every order and forward-mode
 * derivatives come from the primitives' rules; there is no recurrent primitive.
 *
 * The full-sequence layers project the whole input sequence with one matmul per layer and
 * direction (`x W_ih^T + b`), then run the recurrence with one small matmul per step. The time
 * loop is a plain `for` loop (no recursion), and the autograd engine is iterative, so
 * backpropagation through thousands of steps does not grow the JavaScript stack.
 */
import { Module, Parameter } from './module.js';
import { Tensor } from '../autograd/tensor.js';
import { NDArray } from '../ndarray/ndarray.js';
import { add, cat, chunk, matmul, mul, narrow, relu, sigmoid, squeeze, stack, sub, tanh, transpose, unsqueeze } from '../ops/primitives.js';
import { mT } from '../ops/linalg.js';
import { describe } from '../ops/util.js';
import { dropout as dropoutFn } from '../functional/activation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import { uniformTensor, type Generator } from '../random.js';
import type { LayerOptions } from './linear.js';

/** The recurrence of a layer: Elman RNN with tanh or relu, LSTM or GRU. */
type Mode = 'tanh' | 'relu' | 'lstm' | 'gru';

/** Number of stacked gate blocks in weight_ih / weight_hh (rows = gates * hiddenSize). */
const GATES: Record<Mode, number> = { tanh: 1, relu: 1, lstm: 4, gru: 3 };

// ---------------------------------------------------------------- the step functions

/**
 * x W_ih^T + b_ih (+ b_hh, except for GRU, whose b_hn sits inside r * (W_hn h + b_hn)). Works on
 * (N, in) for a cell and on (L, N, in) for a whole sequence at once.
 */
function inputProjection(mode: Mode, x: Tensor, wIh: Tensor, bIh: Tensor | null, bHh: Tensor | null): Tensor {
  const y = matmul(x, mT(wIh));
  const b = mode === 'gru' ? bIh : bIh && bHh ? add(bIh, bHh) : bIh ?? bHh;
  return b ? add(y, b) : y;
}

/**
 * One time step. `xg` is the step's input projection (N, G*H), `h` (and `c` for LSTM) the state
 * (N, H), `wHhT` the transposed hidden weight (H, G*H), `bHh` the hidden bias (GRU only; the
 * others have it folded into `xg`). Returns the new [h, c] (c is null except for LSTM).
 */
function step(mode: Mode, xg: Tensor, h: Tensor, c: Tensor | null, wHhT: Tensor, bHh: Tensor | null): [Tensor, Tensor | null] {
  const hg = matmul(h, wHhT);
  switch (mode) {
    case 'tanh':
      return [tanh(add(xg, hg)), null];
    case 'relu':
      return [relu(add(xg, hg)), null];
    case 'lstm': {
      const [i, f, g, o] = chunk(add(xg, hg), 4, -1) as [Tensor, Tensor, Tensor, Tensor];
      const c2 = add(mul(sigmoid(f), c!), mul(sigmoid(i), tanh(g)));
      return [mul(sigmoid(o), tanh(c2)), c2];
    }
    case 'gru': {
      const [xr, xz, xn] = chunk(xg, 3, -1) as [Tensor, Tensor, Tensor];
      const [hr, hz, hn] = chunk(bHh ? add(hg, bHh) : hg, 3, -1) as [Tensor, Tensor, Tensor];
      const r = sigmoid(add(xr, hr));
      const z = sigmoid(add(xz, hz));
      const n = tanh(add(xn, mul(r, hn)));
      return [add(n, mul(z, sub(h, n))), null]; // (1 - z) * n + z * h
    }
  }
}

/**
 * The slices of `x` along dim 0, with dim 0 removed. Built as a halving tree of views, so that the
 * backward pass (each view's gradient is embedded into its parent's shape) costs O(n log n)
 * element writes rather than the O(n^2) of n slices taken from the whole tensor.
 */
function unbind0(x: Tensor): Tensor[] {
  let parts = [x];
  while (parts.some((p) => p.shape[0]! > 1)) {
    const next: Tensor[] = [];
    for (const p of parts) {
      const n = p.shape[0]!;
      if (n <= 1) next.push(p);
      else next.push(narrow(p, 0, 0, n >> 1), narrow(p, 0, n >> 1, n - (n >> 1)));
    }
    parts = next;
  }
  return parts.map((p) => squeeze(p, 0));
}

// ---------------------------------------------------------------- shared checks and init

function checkSize(layer: string, name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw rangeError(layer, `${name} to be ${min === 0 ? 'a non-negative' : 'a positive'} integer`, fmt(v));
  }
  return v;
}

function checkMode(layer: string, nonlinearity: unknown): Mode {
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') {
    throw typeError(layer, 'nonlinearity of "tanh" or "relu"', fmt(nonlinearity));
  }
  return nonlinearity;
}

/** A float tensor of the parameters' dtype and device, or a TypeError naming `what`. */
function checkKind(layer: string, what: string, t: unknown, ref: Parameter): Tensor {
  if (!(t instanceof Tensor)) throw typeError(layer, `${what} to be a Tensor`, describe(t));
  if (t.dtype !== ref.dtype) throw typeError(layer, `${what} of dtype ${ref.dtype} (the parameters' dtype)`, t.dtype);
  if (t.device !== ref.device) throw typeError(layer, `${what} on device ${ref.device} (the parameters' device)`, t.device);
  return t;
}

function checkShape(layer: string, what: string, t: Tensor, shape: readonly number[]): void {
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw rangeError(layer, `${what} of shape ${fmtShape(shape)}`, fmtShape(t.shape));
  }
}

/** U(-1/sqrt(hidden), 1/sqrt(hidden)), PyTorch's init for every recurrent weight and bias. */
function initUniform(shape: number[], hiddenSize: number, opts: LayerOptions): Parameter {
  const k = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
  return new Parameter(uniformTensor(shape, -k, k, { dtype: opts.dtype, device: opts.device, generator: opts.generator }));
}

function zerosState(shape: number[], ref: Parameter): Tensor {
  return new Tensor(NDArray.full(shape, 0, ref.dtype, ref.device));
}

// ---------------------------------------------------------------- cells

/** Options of {@link RNNCell}, {@link LSTMCell} and {@link GRUCell}. */
export interface RNNCellOptions extends LayerOptions {
  /** Learn the biases b_ih and b_hh. Default true. */
  bias?: boolean;
}

/** Shared parameters, init and checks of the three cells. */
abstract class CellBase extends Module {
  weightIh: Parameter;
  weightHh: Parameter;
  biasIh: Parameter | null;
  biasHh: Parameter | null;
  readonly bias: boolean;
  private readonly initOpts: LayerOptions;

  constructor(
    protected readonly layerName: string,
    protected readonly mode: Mode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RNNCellOptions,
  ) {
    super();
    checkSize(layerName, 'inputSize', inputSize, 0);
    checkSize(layerName, 'hiddenSize', hiddenSize, 1);
    this.bias = opts.bias ?? true;
    this.initOpts = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    const g = GATES[mode] * hiddenSize;
    this.weightIh = initUniform([g, inputSize], hiddenSize, this.initOpts);
    this.weightHh = initUniform([g, hiddenSize], hiddenSize, this.initOpts);
    this.biasIh = this.bias ? initUniform([g], hiddenSize, this.initOpts) : null;
    this.biasHh = this.bias ? initUniform([g], hiddenSize, this.initOpts) : null;
  }

  /** Re-draws every weight and bias from U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)) in place. */
  resetParameters(): void {
    for (const p of this.parameters()) p.array = initUniform(p.shape.slice(), this.hiddenSize, { ...this.initOpts, dtype: p.dtype, device: p.device }).array;
  }

  /** Checks the input; returns it as (N, inputSize) and whether it was unbatched (1-D). */
  protected input(x: unknown): [Tensor, boolean] {
    const t = checkKind(this.layerName, 'input', x, this.weightIh);
    if ((t.ndim !== 1 && t.ndim !== 2) || t.shape[t.ndim - 1] !== this.inputSize) {
      throw rangeError(this.layerName, `input of shape (N, ${this.inputSize}) or (${this.inputSize})`, fmtShape(t.shape));
    }
    return t.ndim === 1 ? [unsqueeze(t, 0), false] : [t, true];
  }

  /** Checks a state tensor against (N, H), or (H) for unbatched input; returns it as (N, H). */
  protected state(what: string, s: unknown, n: number, batched: boolean): Tensor {
    if (s === undefined || s === null) return zerosState([n, this.hiddenSize], this.weightIh);
    const t = checkKind(this.layerName, what, s, this.weightIh);
    checkShape(this.layerName, what, t, batched ? [n, this.hiddenSize] : [this.hiddenSize]);
    return batched ? t : unsqueeze(t, 0);
  }

  /** One step on (N, in) input and (N, H) state. */
  protected cellStep(x: Tensor, h: Tensor, c: Tensor | null): [Tensor, Tensor | null] {
    const xg = inputProjection(this.mode, x, this.weightIh, this.biasIh, this.biasHh);
    return step(this.mode, xg, h, c, mT(this.weightHh), this.mode === 'gru' ? this.biasHh : null);
  }

  override extraRepr(): string {
    const nl = this.mode === 'relu' ? ', nonlinearity="relu"' : '';
    return `inputSize=${this.inputSize}, hiddenSize=${this.hiddenSize}, bias=${this.bias}${nl}`;
  }
}

/**
 * An Elman RNN cell (torch.nn.RNNCell): h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh) with
 * act = tanh (default) or relu. Parameters `weight_ih` (hiddenSize, inputSize), `weight_hh`
 * (hiddenSize, hiddenSize), `bias_ih` and `bias_hh` (hiddenSize), all initialized
 * U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)).
 *
 * Shape: input (N, inputSize) or unbatched (inputSize); hx (N, hiddenSize) or (hiddenSize),
 * zeros when omitted -> h' of hx's shape.
 *
 * @example
 * const cell = new nd.nn.RNNCell(10, 20);
 * let h = nd.zeros([3, 20]);
 * for (const x of nd.randn([6, 3, 10]).split(1, 0)) h = cell.forward(x.squeeze(0), h); // [3, 20]
 */
export class RNNCell extends CellBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    const mode = checkMode('RNNCell', opts.nonlinearity ?? 'tanh') as 'tanh' | 'relu';
    super('RNNCell', mode, inputSize, hiddenSize, opts);
    this.nonlinearity = mode;
  }

  forward(x: Tensor, hx?: Tensor | null): Tensor {
    const [xb, batched] = this.input(x);
    const [h] = this.cellStep(xb, this.state('hx', hx, xb.shape[0]!, batched), null);
    return batched ? h : squeeze(h, 0);
  }
}

/**
 * A long short-term memory cell (torch.nn.LSTMCell). With the gates stacked in PyTorch's order
 * i, f, g, o along the rows of `weight_ih` (4*hiddenSize, inputSize) and `weight_hh`
 * (4*hiddenSize, hiddenSize):
 * i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.), c' = f * c + i * g,
 * h' = o * tanh(c').
 *
 * Shape: input (N, inputSize) or (inputSize); hx = [h, c], each (N, hiddenSize) or (hiddenSize),
 * zeros when omitted -> [h', c'] of the same shapes.
 *
 * @example
 * const cell = new nd.nn.LSTMCell(10, 20);
 * const [h, c] = cell.forward(nd.randn([3, 10])); // [3, 20] each
 * const [h2] = cell.forward(nd.randn([3, 10]), [h, c]);
 */
export class LSTMCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super('LSTMCell', 'lstm', inputSize, hiddenSize, opts);
  }

  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, Tensor] {
    const [xb, batched] = this.input(x);
    if (hx !== undefined && hx !== null && (!Array.isArray(hx) || hx.length !== 2)) {
      throw typeError('LSTMCell', 'hx as a pair [h, c]', describe(hx));
    }
    const n = xb.shape[0]!;
    const h0 = this.state('h0', hx?.[0], n, batched);
    const c0 = this.state('c0', hx?.[1], n, batched);
    const [h, c] = this.cellStep(xb, h0, c0) as [Tensor, Tensor];
    return batched ? [h, c] : [squeeze(h, 0), squeeze(c, 0)];
  }
}

/**
 * A gated recurrent unit cell (torch.nn.GRUCell), gates stacked r, z, n:
 * r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
 * `weight_ih` is (3*hiddenSize, inputSize), `weight_hh` (3*hiddenSize, hiddenSize).
 *
 * Shape: input (N, inputSize) or (inputSize); hx (N, hiddenSize) or (hiddenSize), zeros when
 * omitted -> h' of hx's shape.
 *
 * @example
 * const cell = new nd.nn.GRUCell(10, 20);
 * const h = cell.forward(nd.randn([3, 10]), nd.zeros([3, 20])); // [3, 20]
 */
export class GRUCell extends CellBase {
  constructor(inputSize: number, hiddenSize: number, opts: RNNCellOptions = {}) {
    super('GRUCell', 'gru', inputSize, hiddenSize, opts);
  }

  forward(x: Tensor, hx?: Tensor | null): Tensor {
    const [xb, batched] = this.input(x);
    const [h] = this.cellStep(xb, this.state('hx', hx, xb.shape[0]!, batched), null);
    return batched ? h : squeeze(h, 0);
  }
}

// ---------------------------------------------------------------- full-sequence layers

/** Options of {@link RNN}, {@link LSTM} and {@link GRU} (PyTorch's keyword arguments, camelCased). */
export interface RNNBaseOptions extends LayerOptions {
  /** Stacked layers; layer k > 0 reads layer k-1's output. Default 1. */
  numLayers?: number;
  /** Learn b_ih and b_hh. Default true. */
  bias?: boolean;
  /** Input and output are (N, L, features) instead of (L, N, features); states are unaffected. Default false. */
  batchFirst?: boolean;
  /** Dropout probability on every layer's output except the last, in training mode. Default 0. */
  dropout?: number;
  /** Run a second, reversed pass per layer (parameters with the `_reverse` suffix). Default false. */
  bidirectional?: boolean;
}

/** Options of {@link RNN}. */
export interface RNNOptions extends RNNBaseOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** The parameters of one layer and direction. */
interface LayerWeights {
  wIh: Parameter;
  wHh: Parameter;
  bIh: Parameter | null;
  bHh: Parameter | null;
}

/**
 * Shared machinery of RNN, LSTM and GRU. Parameters are own properties named as PyTorch's
 * (`weightIhL0` -> `weight_ih_l0`, `biasHhL1Reverse` -> `bias_hh_l1_reverse`), created layer by
 * layer, direction by direction, in the order weight_ih, weight_hh, bias_ih, bias_hh.
 */
abstract class RNNBase extends Module {
  /** The weights by property name: `weightIhL0`, `weightHhL1Reverse`, ... (`weight_ih_l0` in the state dict). */
  [name: `weight${'Ih' | 'Hh'}L${number}` | `weight${'Ih' | 'Hh'}L${number}Reverse`]: Parameter;
  /** The biases by property name: `biasIhL0`, `biasHhL1Reverse`, ... (absent with `bias: false`). */
  [name: `bias${'Ih' | 'Hh'}L${number}` | `bias${'Ih' | 'Hh'}L${number}Reverse`]: Parameter | undefined;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** Generator of the dropout masks between layers (default: the global seeded generator). */
  readonly generator: Generator | undefined;
  private readonly initOpts: LayerOptions;

  constructor(
    protected readonly layerName: string,
    protected readonly mode: Mode,
    readonly inputSize: number,
    readonly hiddenSize: number,
    opts: RNNBaseOptions,
  ) {
    super();
    checkSize(layerName, 'inputSize', inputSize, 0);
    checkSize(layerName, 'hiddenSize', hiddenSize, 1);
    this.numLayers = checkSize(layerName, 'numLayers', opts.numLayers ?? 1, 1);
    const p = opts.dropout ?? 0;
    if (typeof p !== 'number') throw typeError(layerName, 'a numeric dropout probability', fmt(p));
    if (!(p >= 0 && p <= 1)) throw rangeError(layerName, 'a dropout probability in [0, 1]', fmt(p));
    this.dropout = p;
    this.bias = opts.bias ?? true;
    this.batchFirst = opts.batchFirst ?? false;
    this.bidirectional = opts.bidirectional ?? false;
    this.generator = opts.generator;
    this.initOpts = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    const gh = GATES[mode] * hiddenSize;
    const self = this as unknown as Record<string, Parameter>;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize * this.numDirections;
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = `L${l}${d === 1 ? 'Reverse' : ''}`;
        self[`weightIh${sfx}`] = initUniform([gh, inSize], hiddenSize, this.initOpts);
        self[`weightHh${sfx}`] = initUniform([gh, hiddenSize], hiddenSize, this.initOpts);
        if (this.bias) {
          self[`biasIh${sfx}`] = initUniform([gh], hiddenSize, this.initOpts);
          self[`biasHh${sfx}`] = initUniform([gh], hiddenSize, this.initOpts);
        }
      }
    }
  }

  /** 2 when bidirectional, else 1. */
  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The parameters per layer and direction, [weight_ih, weight_hh, bias_ih?, bias_hh?] (PyTorch's all_weights). */
  get allWeights(): Parameter[][] {
    const out: Parameter[][] = [];
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.numDirections; d++) {
        const w = this.weights(l, d);
        out.push([w.wIh, w.wHh, ...(w.bIh ? [w.bIh] : []), ...(w.bHh ? [w.bHh] : [])]);
      }
    }
    return out;
  }

  /** Re-draws every weight and bias from U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)) in place. */
  resetParameters(): void {
    for (const p of this.parameters()) p.array = initUniform(p.shape.slice(), this.hiddenSize, { ...this.initOpts, dtype: p.dtype, device: p.device }).array;
  }

  /** A no-op kept for code ported from PyTorch (weights are always usable as they are). */
  flattenParameters(): void {}

  /** Looked up by name on every call (no cache), so reassigned parameters are used. */
  private weights(layer: number, dir: number): LayerWeights {
    const self = this as unknown as Record<string, Parameter | null | undefined>;
    const sfx = `L${layer}${dir === 1 ? 'Reverse' : ''}`;
    return {
      wIh: self[`weightIh${sfx}`]!,
      wHh: self[`weightHh${sfx}`]!,
      bIh: self[`biasIh${sfx}`] ?? null,
      bHh: self[`biasHh${sfx}`] ?? null,
    };
  }

  /** Checks the input; returns it time-major (L, N, inputSize) and whether it was batched (3-D). */
  protected input(x: unknown): [Tensor, boolean] {
    const t = checkKind(this.layerName, 'input', x, this.weights(0, 0).wIh);
    if ((t.ndim !== 2 && t.ndim !== 3) || t.shape[t.ndim - 1] !== this.inputSize) {
      const batched = this.batchFirst ? `(N, L, ${this.inputSize})` : `(L, N, ${this.inputSize})`;
      throw rangeError(this.layerName, `input of shape ${batched} or (L, ${this.inputSize})`, fmtShape(t.shape));
    }
    const seqDim = t.ndim === 3 && this.batchFirst ? 1 : 0;
    if (t.shape[seqDim] === 0) throw rangeError(this.layerName, 'a sequence length of at least 1', `input ${fmtShape(t.shape)}`);
    if (t.ndim === 2) return [unsqueeze(t, 1), false];
    return [this.batchFirst ? transpose(t, 0, 1) : t, true];
  }

  /**
   * Checks an initial state against (numLayers * numDirections, N, H), or without N for unbatched
   * input; returns one (N, H) tensor per layer and direction (zeros when omitted).
   */
  protected initialState(what: string, s: unknown, n: number, batched: boolean): Tensor[] {
    const k = this.numLayers * this.numDirections;
    const ref = this.weights(0, 0).wIh;
    if (s === undefined || s === null) return Array.from({ length: k }, () => zerosState([n, this.hiddenSize], ref));
    const t = checkKind(this.layerName, what, s, ref);
    checkShape(this.layerName, what, t, batched ? [k, n, this.hiddenSize] : [k, this.hiddenSize]);
    return unbind0(batched ? t : unsqueeze(t, 1));
  }

  /**
   * Runs every layer and direction over the time-major input (L, N, F). `h0` (and `c0` for LSTM)
   * hold one (N, H) state per layer and direction. Returns the last layer's output (L, N, D*H)
   * and the final states stacked (numLayers * D, N, H).
   */
  protected run(x: Tensor, h0: Tensor[], c0: Tensor[] | null): { output: Tensor; hN: Tensor; cN: Tensor | null } {
    const D = this.numDirections;
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    let seq = x;
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const w = this.weights(l, d);
        const steps = unbind0(inputProjection(this.mode, seq, w.wIh, w.bIh, w.bHh));
        const wHhT = mT(w.wHh);
        const bHh = this.mode === 'gru' ? w.bHh : null;
        const T = steps.length;
        const ys = new Array<Tensor>(T);
        let h = h0[l * D + d]!;
        let c = c0 ? c0[l * D + d]! : null;
        for (let i = 0; i < T; i++) {
          const t = d === 0 ? i : T - 1 - i;
          [h, c] = step(this.mode, steps[t]!, h, c, wHhT, bHh);
          ys[t] = h;
        }
        outs.push(stack(ys, 0));
        hs.push(h);
        if (c) cs.push(c);
      }
      seq = D === 1 ? outs[0]! : cat(outs, 2);
      if (l < this.numLayers - 1 && this.training && this.dropout > 0) {
        seq = dropoutFn(seq, this.dropout, { training: true, generator: this.generator });
      }
    }
    return { output: seq, hN: stack(hs, 0), cN: c0 ? stack(cs, 0) : null };
  }

  /** Undoes the input's layout: batch-first or unbatched. */
  protected restore(output: Tensor, batched: boolean): Tensor {
    if (!batched) return squeeze(output, 1);
    return this.batchFirst ? transpose(output, 0, 1) : output;
  }

  override extraRepr(): string {
    const parts = [`inputSize=${this.inputSize}`, `hiddenSize=${this.hiddenSize}`];
    if (this.numLayers !== 1) parts.push(`numLayers=${this.numLayers}`);
    if (this.mode === 'relu') parts.push('nonlinearity="relu"');
    if (!this.bias) parts.push('bias=false');
    if (this.batchFirst) parts.push('batchFirst=true');
    if (this.dropout !== 0) parts.push(`dropout=${this.dropout}`);
    if (this.bidirectional) parts.push('bidirectional=true');
    return parts.join(', ');
  }
}

function splitArgs<O>(numLayers: number | O | undefined, opts: O): O & { numLayers?: number } {
  if (typeof numLayers === 'number') return { ...opts, numLayers };
  return { ...(numLayers ?? opts) } as O & { numLayers?: number };
}

/**
 * A multi-layer Elman RNN (torch.nn.RNN): for each layer and time step,
 * h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh (default) or relu.
 * Layer k > 0 reads layer k-1's output, with dropout in between in training mode when
 * `dropout` > 0. Parameters per layer k: `weight_ih_lk` (hiddenSize, inputSize for k = 0, else
 * D * hiddenSize), `weight_hh_lk` (hiddenSize, hiddenSize), `bias_ih_lk`, `bias_hh_lk`, and the
 * same with `_reverse` when bidirectional; all U(-1/sqrt(hiddenSize), 1/sqrt(hiddenSize)).
 * `numLayers` may be given as the third argument, as in PyTorch's `nn.RNN(10, 20, 2)`.
 *
 * Shape: input (L, N, inputSize), (N, L, inputSize) with `batchFirst`, or unbatched
 * (L, inputSize); h0 (numLayers * D, N, hiddenSize) or (numLayers * D, hiddenSize), zeros when
 * omitted, where D = 2 if bidirectional else 1 -> [output, hN]: output (L, N, D * hiddenSize)
 * (batch-first or unbatched like the input; the two directions concatenated on the last dim),
 * hN like h0, ordered layer-major then direction.
 *
 * @example
 * const rnn = new nd.nn.RNN(10, 20, 2);
 * const [output, hN] = rnn.forward(nd.randn([5, 3, 10]), nd.randn([2, 3, 20]));
 * // output [5, 3, 20], hN [2, 3, 20]
 */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, numLayers?: number | RNNOptions, opts: RNNOptions = {}) {
    const o = splitArgs(numLayers, opts);
    const mode = checkMode('RNN', o.nonlinearity ?? 'tanh') as 'tanh' | 'relu';
    super('RNN', mode, inputSize, hiddenSize, o);
    this.nonlinearity = mode;
  }

  forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const [seq, batched] = this.input(x);
    const n = seq.shape[1]!;
    const { output, hN } = this.run(seq, this.initialState('h0', h0, n, batched), null);
    return [this.restore(output, batched), batched ? hN : squeeze(hN, 1)];
  }
}

/**
 * A multi-layer LSTM (torch.nn.LSTM). Per layer and step, with gates stacked i, f, g, o:
 * i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.) of x_t W_ih^T + b_ih + h W_hh^T + b_hh,
 * c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t). `weight_ih_lk` is (4*hiddenSize, in_k),
 * `weight_hh_lk` (4*hiddenSize, hiddenSize); layers, dropout, directions and names as {@link RNN}.
 * `projSize` is not supported.
 *
 * Shape: input (L, N, inputSize), (N, L, inputSize) with `batchFirst`, or (L, inputSize);
 * hx = [h0, c0], each (numLayers * D, N, hiddenSize) or (numLayers * D, hiddenSize), zeros when
 * omitted -> [output, [hN, cN]] with output (L, N, D * hiddenSize) (laid out like the input) and
 * hN, cN shaped like h0.
 *
 * @example
 * const lstm = new nd.nn.LSTM(10, 20, { numLayers: 2, batchFirst: true });
 * const [output, [hN, cN]] = lstm.forward(nd.randn([3, 5, 10]));
 * // output [3, 5, 20], hN and cN [2, 3, 20]
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, numLayers?: number | RNNBaseOptions, opts: RNNBaseOptions = {}) {
    super('LSTM', 'lstm', inputSize, hiddenSize, splitArgs(numLayers, opts));
  }

  forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const [seq, batched] = this.input(x);
    if (hx !== undefined && hx !== null && (!Array.isArray(hx) || hx.length !== 2)) {
      throw typeError('LSTM', 'hx as a pair [h0, c0]', describe(hx));
    }
    const n = seq.shape[1]!;
    const h0 = this.initialState('h0', hx?.[0], n, batched);
    const c0 = this.initialState('c0', hx?.[1], n, batched);
    const { output, hN, cN } = this.run(seq, h0, c0);
    const fix = (s: Tensor) => (batched ? s : squeeze(s, 1));
    return [this.restore(output, batched), [fix(hN), fix(cN!)]];
  }
}

/**
 * A multi-layer GRU (torch.nn.GRU). Per layer and step, gates stacked r, z, n:
 * r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.
 * `weight_ih_lk` is (3*hiddenSize, in_k), `weight_hh_lk` (3*hiddenSize, hiddenSize); layers,
 * dropout, directions and names as {@link RNN}.
 *
 * Shape: as {@link RNN}: input (L, N, inputSize), (N, L, inputSize) or (L, inputSize); h0
 * (numLayers * D, N, hiddenSize) or (numLayers * D, hiddenSize) -> [output, hN].
 *
 * @example
 * const gru = new nd.nn.GRU(10, 20, { bidirectional: true });
 * const [output, hN] = gru.forward(nd.randn([5, 3, 10]));
 * // output [5, 3, 40], hN [2, 3, 20]
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, numLayers?: number | RNNBaseOptions, opts: RNNBaseOptions = {}) {
    super('GRU', 'gru', inputSize, hiddenSize, splitArgs(numLayers, opts));
  }

  forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const [seq, batched] = this.input(x);
    const n = seq.shape[1]!;
    const { output, hN } = this.run(seq, this.initialState('h0', h0, n, batched), null);
    return [this.restore(output, batched), batched ? hN : squeeze(hN, 1)];
  }
}
