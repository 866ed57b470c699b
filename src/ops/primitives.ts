/** Barrel of every op function (what the engine, functional/ and Tensor methods import). */
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './linalg.js';
export * from './index_ops.js';
export type { TensorLike } from './util.js';
