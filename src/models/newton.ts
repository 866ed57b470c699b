/**
 * Newton's method with Hessians from double backward: `hessian` (one createGraph backward, then
 * one backward per gradient entry), a Cholesky solve, `newtonMinimize` (Newton steps with a
 * backtracking line search) and the L2-regularized logistic-regression loss it is demonstrated on.
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { gradOf } from '../autograd/functional.js';
import { add, matmul, mean, mul, sub, sum, stack } from '../ops/primitives.js';
import { getItem } from '../ops/indexing.js';
import { softplus } from '../functional/activation.js';
import { tensor } from '../creation.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';

/** Value, gradient and Hessian of a scalar function at a point (all detached). */
export interface HessianResult {
  value: number;
  /** Shape (d). */
  grad: Tensor;
  /** Shape (d, d), symmetric up to rounding. */
  hessian: Tensor;
}

function checkVector(op: string, w: unknown): Tensor {
  if (!(w instanceof Tensor)) throw typeError(op, 'w to be a Tensor', fmt(w));
  if (w.ndim !== 1) throw rangeError(op, 'w of shape (d)', fmtShape(w.shape));
  if (w.dtype !== 'float32' && w.dtype !== 'float64') throw typeError(op, 'w of a floating dtype', w.dtype);
  return w;
}

/**
 * Value, gradient and Hessian of scalar `f` at the vector `w`: the gradient comes from
 * `autograd.grad(f(w), w, { createGraph: true })`, and row i of the Hessian from differentiating
 * the gradient's entry i again (d extra backward passes through the recorded backward graph).
 *
 * Shape: w (d) -> grad (d), hessian (d, d).
 *
 * @example
 * const { hessian } = nd.models.hessian((w) => w.mul(w).sum().mul(1.5), nd.tensor([1, 2], { dtype: 'float64' }));
 * // hessian = [[3, 0], [0, 3]]
 */
export function hessian(f: (w: Tensor) => Tensor, w: Tensor): HessianResult {
  checkVector('hessian', w);
  const wl = w.detach().requiresGrad_(true);
  const value = f(wl);
  if (!(value instanceof Tensor) || value.size !== 1) {
    throw rangeError('hessian', 'f to return a scalar tensor', value instanceof Tensor ? fmtShape(value.shape) : fmt(value));
  }
  const [g] = gradOf(value, wl, { createGraph: true });
  const d = w.shape[0]!;
  const rows: Tensor[] = [];
  for (let i = 0; i < d; i++) {
    const gi = getItem(g!, i);
    // an entry of the gradient that does not depend on w (e.g. f linear) has a zero row
    rows.push(gi.requiresGrad ? gradOf(gi, wl, { retainGraph: i < d - 1, allowUnused: true })[0]!.detach() : noGrad(() => mul(wl, 0)).detach());
  }
  return { value: value.item(), grad: g!.detach(), hessian: noGrad(() => stack(rows, 0)) };
}

/**
 * Solves A x = b for a symmetric positive-definite A by Cholesky factorization A = L L^T
 * (computed in float64), then forward and back substitution. Throws a RangeError when A is not
 * positive definite (a non-positive pivot).
 *
 * Shape: a (n, n), b (n) -> x (n), with b's dtype.
 *
 * @example
 * nd.models.choleskySolve(nd.tensor([[4, 2], [2, 3]]), nd.tensor([2, 1])); // [0.5, 0]
 */
export function choleskySolve(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor)) throw typeError('choleskySolve', 'a to be a Tensor', fmt(a));
  if (!(b instanceof Tensor)) throw typeError('choleskySolve', 'b to be a Tensor', fmt(b));
  const n = a.shape[0] ?? 0;
  if (a.ndim !== 2 || a.shape[1] !== n) throw rangeError('choleskySolve', 'a square matrix a (n, n)', fmtShape(a.shape));
  if (b.ndim !== 1 || b.shape[0] !== n) throw rangeError('choleskySolve', `b of shape (${n})`, fmtShape(b.shape));
  const A = Float64Array.from(a.contiguous().dataSync() as ArrayLike<number>);
  const x = Float64Array.from(b.contiguous().dataSync() as ArrayLike<number>);
  // in-place factorization: the lower triangle of A becomes L
  for (let j = 0; j < n; j++) {
    let s = A[j * n + j]!;
    for (let k = 0; k < j; k++) s -= A[j * n + k]! * A[j * n + k]!;
    if (!(s > 0)) throw rangeError('choleskySolve', 'a symmetric positive-definite matrix', `pivot ${s} at row ${j}`);
    const ljj = Math.sqrt(s);
    A[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = A[i * n + j]!;
      for (let k = 0; k < j; k++) t -= A[i * n + k]! * A[j * n + k]!;
      A[i * n + j] = t / ljj;
    }
  }
  for (let i = 0; i < n; i++) {
    let t = x[i]!;
    for (let k = 0; k < i; k++) t -= A[i * n + k]! * x[k]!;
    x[i] = t / A[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let t = x[i]!;
    for (let k = i + 1; k < n; k++) t -= A[k * n + i]! * x[k]!;
    x[i] = t / A[i * n + i]!;
  }
  return tensor(x, { dtype: b.dtype === 'float64' ? 'float64' : 'float32' });
}

/** Options of {@link newtonMinimize}. */
export interface NewtonOptions {
  /** Most Newton steps. Default 20. */
  maxSteps?: number;
  /** Stop when the gradient's Euclidean norm is at most this. Default 1e-10. */
  tol?: number;
  /** Halve the step until the Armijo condition holds (pure Newton steps when false). Default true. */
  lineSearch?: boolean;
}

/** Result of {@link newtonMinimize}. */
export interface NewtonResult {
  /** The minimizer found, shape (d), detached. */
  w: Tensor;
  /** f at the start and after every step. */
  losses: number[];
  /** Gradient norm at the start and after every step. */
  gradNorms: number[];
  /** Newton steps taken. */
  steps: number;
}

/**
 * Minimizes a smooth, strictly convex scalar function of a vector by Newton's method:
 * w <- w - t H^-1 g, with H and g from {@link hessian} (double backward) and the system solved by
 * {@link choleskySolve}; t = 1 unless the backtracking line search has to shorten it. Converges
 * quadratically near the optimum (a handful of steps where gradient descent needs hundreds).
 *
 * Shape: w0 (d) -> w (d).
 *
 * @example
 * const f = (w: nd.Tensor) => nd.models.logisticRegressionLoss(w, x, y, { l2: 1e-2 });
 * const { w, steps } = nd.models.newtonMinimize(f, nd.zeros([x.shape[1]], { dtype: 'float64' }));
 */
export function newtonMinimize(f: (w: Tensor) => Tensor, w0: Tensor, opts: NewtonOptions = {}): NewtonResult {
  checkVector('newtonMinimize', w0);
  const maxSteps = opts.maxSteps ?? 20;
  const tol = opts.tol ?? 1e-10;
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw rangeError('newtonMinimize', 'maxSteps to be a non-negative integer', fmt(maxSteps));
  const evalF = (w: Tensor): number => noGrad(() => f(w)).item();
  let w = w0.detach();
  const losses: number[] = [];
  const gradNorms: number[] = [];
  let steps = 0;
  for (;;) {
    const { value, grad, hessian: h } = hessian(f, w);
    const gnorm = Math.sqrt(noGrad(() => sum(mul(grad, grad))).item());
    losses.push(value);
    gradNorms.push(gnorm);
    if (gnorm <= tol || steps >= maxSteps) break;
    const dir = choleskySolve(h, grad); // H^-1 g
    const slope = noGrad(() => sum(mul(grad, dir))).item(); // g . H^-1 g > 0
    let t = 1;
    let next = noGrad(() => sub(w, dir));
    if (opts.lineSearch ?? true) {
      while (t > 1e-10 && !(evalF(next) <= value - 1e-4 * t * slope)) {
        t /= 2;
        next = noGrad(() => sub(w, mul(dir, t)));
      }
    }
    w = next.detach();
    steps++;
  }
  return { w, losses, gradNorms, steps };
}

/**
 * The mean logistic (binary cross-entropy with logits) loss of the linear model z = x w plus
 * (l2 / 2) |w|^2: mean(softplus(z) - y z) + (l2 / 2) w . w, with labels y in {0, 1}. Append a
 * column of ones to x for a bias (it is then regularized too).
 *
 * Shape: w (d), x (N, d), y (N) float -> scalar.
 *
 * @example
 * nd.models.logisticRegressionLoss(nd.zeros([3]), nd.randn([5, 3]), nd.tensor([0, 1, 1, 0, 1])); // log 2
 */
export function logisticRegressionLoss(w: Tensor, x: Tensor, y: Tensor, opts: { l2?: number } = {}): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw rangeError('logisticRegressionLoss', 'x of shape (N, d)', x instanceof Tensor ? fmtShape(x.shape) : fmt(x));
  if (!(w instanceof Tensor) || w.ndim !== 1 || w.shape[0] !== x.shape[1]) {
    throw rangeError('logisticRegressionLoss', `w of shape (${x.shape[1]})`, w instanceof Tensor ? fmtShape(w.shape) : fmt(w));
  }
  if (!(y instanceof Tensor) || y.ndim !== 1 || y.shape[0] !== x.shape[0]) {
    throw rangeError('logisticRegressionLoss', `y of shape (${x.shape[0]})`, y instanceof Tensor ? fmtShape(y.shape) : fmt(y));
  }
  const z = matmul(x, w);
  const data = mean(sub(softplus(z), mul(y, z)));
  const l2 = opts.l2 ?? 0;
  return l2 === 0 ? data : add(data, mul(sum(mul(w, w)), l2 / 2));
}
