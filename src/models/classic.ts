/**
 * The classic systems of needle's homework 0 and the lectures, as modules: softmax regression and
 * the two-layer ReLU network (each with its hand-derived gradient next to autograd's), and a
 * random-Fourier-features classifier (fixed random cosine features and a trained linear head).
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { Module, Parameter } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { add, cos, logsumexp, matmul, mul, relu, sub, sum, div, gt, cast, gather, mean, unsqueeze, squeeze, oneHot } from '../ops/primitives.js';
import { mT } from '../ops/linalg.js';
import { softmax } from '../functional/activation.js';
import { randn, uniformTensor } from '../random.js';
import { zeros } from '../creation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';
import type { ModelOptions } from './mlp_resnet.js';

/** What the hand-derived gradient functions return. */
export interface ManualGradients {
  /** The mean cross-entropy of the batch (a scalar tensor without a graph). */
  loss: Tensor;
  /** d(loss)/d(parameter), in the order of `parameters()`. */
  grads: Tensor[];
}

function checkPositive(model: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw rangeError(model, `${name} to be a positive integer`, fmt(v));
}

function checkBatch(model: string, x: Tensor, y: Tensor, inFeatures: number): void {
  if (!(x instanceof Tensor)) throw typeError(model, 'x to be a Tensor', fmt(x));
  if (!(y instanceof Tensor)) throw typeError(model, 'y to be a Tensor', fmt(y));
  if (x.ndim !== 2 || x.shape[1] !== inFeatures) throw rangeError(model, `x of shape (N, ${inFeatures})`, fmtShape(x.shape));
  if (y.dtype !== 'int32') throw typeError(model, 'y of dtype int32 (class indices)', y.dtype);
  if (y.ndim !== 1 || y.shape[0] !== x.shape[0]) throw rangeError(model, `y of shape (${x.shape[0]})`, fmtShape(y.shape));
}

/** Mean cross-entropy of logits (N, K) against int32 labels (N): mean(logsumexp(z) - z_y). */
function crossEntropyOf(logits: Tensor, y: Tensor): Tensor {
  const picked = squeeze(gather(logits, 1, unsqueeze(y, 1)), 1);
  return mean(sub(logsumexp(logits, 1), picked));
}

/** Accumulates `grads` into the `.grad` of `params`, as `backward()` does. */
function accumulate(params: Parameter[], grads: Tensor[]): void {
  params.forEach((p, i) => {
    const g = grads[i]!;
    p.grad = p.grad ? noGrad(() => add(p.grad!, g)) : g;
  });
}

/**
 * Softmax (multinomial logistic) regression: logits = x W^T + b, trained on the mean
 * cross-entropy. Weights start at zero (the loss is convex, so the start does not matter).
 * `manualGradients` is homework 0's hand derivation: with Z = softmax(logits) and Y the one-hot
 * labels, dW = (Z - Y)^T x / N and db = sum_rows(Z - Y) / N.
 *
 * Shape: input (N, inFeatures) -> logits (N, numClasses). Labels (N) int32.
 *
 * @example
 * const model = new nd.models.SoftmaxRegression(784, 10);
 * const { loss, grads } = model.manualGradients(nd.rand([8, 784]), nd.randint(0, 10, [8]));
 * // grads[0]: [10, 784] (weight), grads[1]: [10] (bias); loss ~ log(10)
 */
export class SoftmaxRegression extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly numClasses: number, opts: ModelOptions & { bias?: boolean } = {}) {
    super();
    checkPositive('SoftmaxRegression', 'inFeatures', inFeatures);
    checkPositive('SoftmaxRegression', 'numClasses', numClasses);
    const o = { dtype: opts.dtype, device: opts.device };
    this.weight = new Parameter(zeros([numClasses, inFeatures], o));
    this.bias = opts.bias === false ? null : new Parameter(zeros([numClasses], o));
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw rangeError('SoftmaxRegression', `input of shape (*, ${this.inFeatures})`, x instanceof Tensor ? fmtShape(x.shape) : fmt(x));
    }
    const z = matmul(x, mT(this.weight));
    return this.bias ? add(z, this.bias) : z;
  }

  /** The hand-derived loss and gradients on a batch (no autograd graph is built). */
  manualGradients(x: Tensor, y: Tensor): ManualGradients {
    checkBatch('SoftmaxRegression.manualGradients', x, y, this.inFeatures);
    return noGrad(() => {
      const n = x.shape[0]!;
      const logits = this.forward(x);
      const g = div(sub(softmax(logits, 1), oneHot(y, this.numClasses, { dtype: floatOf(logits) })), n); // (N, K)
      const grads = [matmul(mT(g), x)];
      if (this.bias) grads.push(sum(g, 0));
      return { loss: crossEntropyOf(logits, y), grads };
    });
  }

  /** Accumulates the hand-derived gradients into each parameter's `.grad`; returns the loss. */
  manualBackward(x: Tensor, y: Tensor): Tensor {
    const { loss, grads } = this.manualGradients(x, y);
    accumulate(this.parameters(), grads);
    return loss;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, numClasses=${this.numClasses}, bias=${this.bias !== null}`;
  }
}

function floatOf(t: Tensor): 'float32' | 'float64' {
  return t.dtype === 'float64' ? 'float64' : 'float32';
}

/**
 * The two-layer ReLU network of homework 0: logits = fc2(relu(fc1(x))), with fc1 and fc2
 * `nn.Linear` layers (PyTorch's initialization and state-dict keys `fc1.weight`, ...).
 * `manualGradients` is the hand-derived backward pass: with H = relu(x W1^T + b1),
 * G2 = (softmax(H W2^T + b2) - Y) / N and G1 = (G2 W2) * 1[H > 0],
 * dW2 = G2^T H, db2 = sum_rows(G2), dW1 = G1^T x, db1 = sum_rows(G1).
 *
 * Shape: input (N, inFeatures) -> logits (N, numClasses). Labels (N) int32.
 *
 * @example
 * const net = new nd.models.TwoLayerNet(784, 100, 10);
 * net.forward(nd.rand([8, 784])); // [8, 10]
 * const loss = net.manualBackward(nd.rand([8, 784]), nd.randint(0, 10, [8])); // fills .grad
 */
export class TwoLayerNet extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(readonly inFeatures: number, readonly hiddenDim: number, readonly numClasses: number, opts: ModelOptions & { bias?: boolean } = {}) {
    super();
    checkPositive('TwoLayerNet', 'inFeatures', inFeatures);
    checkPositive('TwoLayerNet', 'hiddenDim', hiddenDim);
    checkPositive('TwoLayerNet', 'numClasses', numClasses);
    this.fc1 = new Linear(inFeatures, hiddenDim, opts);
    this.fc2 = new Linear(hiddenDim, numClasses, opts);
  }

  forward(x: Tensor): Tensor {
    return this.fc2.forward(relu(this.fc1.forward(x)));
  }

  /** The hand-derived loss and gradients on a batch, in `parameters()` order (no graph is built). */
  manualGradients(x: Tensor, y: Tensor): ManualGradients {
    checkBatch('TwoLayerNet.manualGradients', x, y, this.inFeatures);
    return noGrad(() => {
      const n = x.shape[0]!;
      const h = relu(this.fc1.forward(x)); // (N, H)
      const logits = this.fc2.forward(h); // (N, K)
      const g2 = div(sub(softmax(logits, 1), oneHot(y, this.numClasses, { dtype: floatOf(logits) })), n);
      const g1 = mul(matmul(g2, this.fc2.weight), cast(gt(h, 0), h.dtype)); // (N, H)
      const grads: Tensor[] = [matmul(mT(g1), x)];
      if (this.fc1.bias) grads.push(sum(g1, 0));
      grads.push(matmul(mT(g2), h));
      if (this.fc2.bias) grads.push(sum(g2, 0));
      return { loss: crossEntropyOf(logits, y), grads };
    });
  }

  /** Accumulates the hand-derived gradients into each parameter's `.grad`; returns the loss. */
  manualBackward(x: Tensor, y: Tensor): Tensor {
    const { loss, grads } = this.manualGradients(x, y);
    accumulate(this.parameters(), grads);
    return loss;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, hiddenDim=${this.hiddenDim}, numClasses=${this.numClasses}`;
  }
}

/** Options of {@link RandomFourierFeatures}. */
export interface RandomFourierOptions extends ModelOptions {
  /** Bandwidth sigma of the approximated Gaussian kernel exp(-|x - x'|^2 / (2 sigma^2)). Default 1. */
  sigma?: number;
}

/**
 * A random-Fourier-features classifier (Rahimi and Recht): fixed random features
 * phi(x) = sqrt(2 / D) cos(x Omega^T + b), with Omega (D, inFeatures) ~ N(0, 1 / sigma^2) and
 * b ~ U(0, 2 pi), so that phi(x) . phi(x') approximates the Gaussian kernel
 * exp(-|x - x'|^2 / (2 sigma^2)); then a trained linear head (`head`, an `nn.Linear`).
 * Omega and b are persistent buffers (saved in the state dict, never trained), so only the head's
 * parameters are returned by `parameters()`. Train the head on precomputed `features(x)` to
 * compute the features once.
 *
 * Shape: input (N, inFeatures) -> logits (N, numClasses); `features`: (N, inFeatures) -> (N, D).
 *
 * @example
 * const rff = new nd.models.RandomFourierFeatures(784, 2000, 10, { sigma: 5 });
 * rff.features(nd.rand([4, 784])); // [4, 2000]
 * rff.forward(nd.rand([4, 784]));  // [4, 10]
 */
export class RandomFourierFeatures extends Module {
  declare omega: Tensor;
  declare phase: Tensor;
  head: Linear;
  readonly sigma: number;

  constructor(readonly inFeatures: number, readonly numFeatures: number, readonly numClasses: number, opts: RandomFourierOptions = {}) {
    super();
    checkPositive('RandomFourierFeatures', 'inFeatures', inFeatures);
    checkPositive('RandomFourierFeatures', 'numFeatures', numFeatures);
    checkPositive('RandomFourierFeatures', 'numClasses', numClasses);
    const sigma = opts.sigma ?? 1;
    if (typeof sigma !== 'number' || !(sigma > 0) || !Number.isFinite(sigma)) throw rangeError('RandomFourierFeatures', 'sigma to be a positive number', fmt(sigma));
    this.sigma = sigma;
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.registerBuffer('omega', noGrad(() => div(randn([numFeatures, inFeatures], o), sigma)));
    this.registerBuffer('phase', uniformTensor([numFeatures], 0, 2 * Math.PI, o));
    this.head = new Linear(numFeatures, numClasses, o);
  }

  /** The random cosine features sqrt(2 / D) cos(x Omega^T + b) (no gradient flows to Omega, b). */
  features(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw rangeError('RandomFourierFeatures', `input of shape (*, ${this.inFeatures})`, x instanceof Tensor ? fmtShape(x.shape) : fmt(x));
    }
    return mul(cos(add(matmul(x, mT(this.omega)), this.phase)), Math.sqrt(2 / this.numFeatures));
  }

  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, numFeatures=${this.numFeatures}, numClasses=${this.numClasses}, sigma=${this.sigma}`;
  }
}
