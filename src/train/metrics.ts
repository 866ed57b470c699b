/**
 * Training metrics: accuracy, perplexity, running means and throughput. Browser-safe.
 *
 * Counting convention: a "sample" is one prediction, i.e. one element of the target tensor
 * (an image for a classifier with targets (N), a token for a language model with targets (N, T)).
 */
import { Tensor } from '../autograd/tensor.js';
import { noGrad } from '../autograd/mode.js';
import { argmax } from '../ops/reduce.js';
import { fmt, fmtShape, rangeError, typeError } from '../errors.js';

/** The metrics a training loop can compute besides the loss. */
export type MetricName = 'accuracy' | 'perplexity';

/** Milliseconds since an arbitrary origin (performance.now where available). */
export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/**
 * Number of correct predictions: `argmax(output, -1) == target`, counted over all targets.
 * `output` has shape (..., C) and `target` the leading shape (...) with integer class indices.
 *
 * @example
 * nd.train.correctCount(nd.tensor([[0.1, 2], [3, 0]]), nd.tensor([1, 1], { dtype: 'int32' })); // 1
 */
export function correctCount(output: Tensor, target: Tensor): number {
  const fn = 'correctCount';
  if (!(output instanceof Tensor)) throw typeError(fn, 'output to be a Tensor', fmt(output));
  if (!(target instanceof Tensor)) throw typeError(fn, 'target to be a Tensor', fmt(target));
  if (output.ndim !== target.ndim + 1 || output.shape.slice(0, -1).some((n, i) => n !== target.shape[i])) {
    throw rangeError(fn, 'output (..., C) and target (...) with the same leading shape', `${fmtShape(output.shape)} and ${fmtShape(target.shape)}`);
  }
  return noGrad(() => {
    const pred = argmax(output.detach(), -1);
    const t = target.dtype === 'int32' ? target : target.int();
    return pred.eq(t).sum().item();
  });
}

/**
 * Classification accuracy in [0, 1]: the fraction of targets whose class has the largest output.
 *
 * Shape: output (..., C), target (...) integer class indices.
 *
 * @example
 * nd.train.accuracy(model.forward(x), y); // 0.87
 */
export function accuracy(output: Tensor, target: Tensor): number {
  const n = target instanceof Tensor ? target.size : 0;
  const c = correctCount(output, target);
  return n === 0 ? NaN : c / n;
}

/**
 * Perplexity of a mean cross-entropy loss in nats: `exp(loss)`.
 *
 * @example
 * nd.train.perplexity(Math.log(50)); // 50
 */
export function perplexity(meanLoss: number): number {
  return Math.exp(meanLoss);
}

/**
 * A weighted running mean (e.g. the mean loss over batches of different sizes).
 *
 * @example
 * const m = new nd.train.RunningMean();
 * m.add(0.5, 100); m.add(0.3, 50);
 * m.value; // 0.4333
 */
export class RunningMean {
  private sum = 0;
  /** The total weight added so far. */
  count = 0;

  /** Adds `value` with weight `weight` (default 1). */
  add(value: number, weight = 1): void {
    this.sum += value * weight;
    this.count += weight;
  }

  /** The mean so far (NaN before the first value). */
  get value(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /** Forgets every value. */
  reset(): void {
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * Throughput: samples per second since `start()` (or construction).
 *
 * @example
 * const t = new nd.train.Throughput();
 * t.add(100); t.perSecond; // samples/s so far
 */
export class Throughput {
  private t0 = now();
  /** Samples counted since the start. */
  samples = 0;

  /** Restarts the clock and the count. */
  start(): void {
    this.t0 = now();
    this.samples = 0;
  }

  /** Counts `n` more samples. */
  add(n: number): void {
    this.samples += n;
  }

  /** Seconds since the start. */
  get seconds(): number {
    return (now() - this.t0) / 1000;
  }

  /** Samples per second since the start (0 before any time has passed). */
  get perSecond(): number {
    const s = this.seconds;
    return s > 0 ? this.samples / s : 0;
  }
}
