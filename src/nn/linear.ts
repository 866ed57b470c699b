/** Identity and Linear. */
import { Module, Parameter } from './module.js';
import type { Tensor } from '../autograd/tensor.js';
import { add, matmul } from '../ops/primitives.js';
import { mT } from '../ops/linalg.js';
import { linearFits, linearPrim } from '../ops/linear.js';
import { fmtShape, rangeError } from '../errors.js';
import { uniformTensor, type Generator } from '../random.js';
import type { DType } from '../ndarray/dtype.js';

/** Common constructor options of layers with parameters. */
export interface LayerOptions {
  dtype?: DType;
  device?: string;
  generator?: Generator;
}

/** Returns its input. Shape: any. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * y = x W^T + b (torch.nn.Linear). Weight (outFeatures, inFeatures) and bias initialized
 * U(-1/sqrt(in), 1/sqrt(in)) as PyTorch (kaiming_uniform with a = sqrt(5)).
 *
 * Shape: input (*, inFeatures) -> output (*, outFeatures).
 *
 * @example
 * const fc = new nd.nn.Linear(784, 100);
 * const y = fc.forward(nd.randn([32, 784])); // [32, 100]
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: LayerOptions & { bias?: boolean } = {}) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 0) throw rangeError('Linear', `${n} to be a non-negative integer`, String(v));
    }
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    const o = { dtype: opts.dtype, device: opts.device, generator: opts.generator };
    this.weight = new Parameter(uniformTensor([outFeatures, inFeatures], -bound, bound, o));
    this.bias = opts.bias === false ? null : new Parameter(uniformTensor([outFeatures], -bound, bound, o));
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw rangeError('Linear', `input of shape (*, ${this.inFeatures})`, fmtShape(x.shape));
    }
    if (linearFits(x, this.weight, this.bias)) return linearPrim(x, this.weight, this.bias);
    const y = matmul(x, mT(this.weight));
    return this.bias ? add(y, this.bias) : y;
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
