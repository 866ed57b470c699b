/** Barrel of every op function (what the engine, functional/ and Tensor methods import). */
export * from './elementwise.js';
export * from './reduce.js';
export * from './shape.js';
export * from './linalg.js';
export * from './index_ops.js';
export { im2col, col2im, im2colOp, col2imOp } from './conv.js';
export type { WindowOptions } from './conv.js';
export type { TensorLike } from './util.js';
