/**
 * Gradient registrations for the TensorFlow.js kernels the MLP benchmark uses.
 *
 * `@tensorflow/tfjs-core`'s Node (CommonJS) bundle registers no gradients: the full
 * `@tensorflow/tfjs` package does it through `@tensorflow/tfjs-core/dist/register_all_gradients`,
 * whose ES module files use extensionless imports that Node cannot load. This file registers the
 * standard derivatives of Add, Sub, Multiply, Neg, Relu, BatchMatMul, Sum and Mean through tfjs's
 * public `registerGradient` API, so that tfjs's backward pass does the same work it does in
 * `@tensorflow/tfjs` (the bench checks the resulting gradients against needle-ts's).
 */
import * as tf from '@tensorflow/tfjs-core';

type G = tf.Tensor;
const { getReductionAxes, assertAndGetBroadcastShape } = tf.broadcast_util;

function parseAxis(axis: number | number[] | undefined | null, shape: readonly number[]): number[] {
  const rank = shape.length;
  const ax = axis == null ? shape.map((_, i) => i) : ([] as number[]).concat(axis);
  return ax.map((a) => (a < 0 ? rank + a : a));
}

function reduceTo(res: G, from: readonly number[], outShape: number[]): G {
  const axes = getReductionAxes([...from], outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(res, axes) : res, [...from]);
}

let registered = false;

/** Registers the gradients (idempotent). */
export function registerTfjsGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: tf.Add,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as G[];
      const out = assertAndGetBroadcastShape(a!.shape, b!.shape);
      const d = dy as G;
      return { a: () => reduceTo(d, a!.shape, out), b: () => reduceTo(d, b!.shape, out) };
    },
  });
  tf.registerGradient({
    kernelName: tf.Sub,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as G[];
      const out = assertAndGetBroadcastShape(a!.shape, b!.shape);
      const d = dy as G;
      return { a: () => reduceTo(d, a!.shape, out), b: () => tf.neg(reduceTo(d, b!.shape, out)) };
    },
  });
  tf.registerGradient({
    kernelName: tf.Multiply,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as G[];
      const out = assertAndGetBroadcastShape(a!.shape, b!.shape);
      const d = dy as G;
      const der = (x: G, other: G) => () => {
        const res = tf.mul(d, tf.cast(other, 'float32'));
        const axes = getReductionAxes([...x.shape], out);
        return axes.length > 0 ? tf.reshape(tf.sum(res, axes), [...x.shape]) : res;
      };
      return { a: der(a!, b!), b: der(b!, a!) };
    },
  });
  tf.registerGradient({
    kernelName: tf.Neg,
    gradFunc: (dy) => ({ x: () => tf.neg(dy as G) }),
  });
  tf.registerGradient({
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as G[];
      return { x: () => tf.mul(dy as G, tf.cast(tf.step(x!), 'float32')) };
    },
  });
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as G[];
      const d = dy as G;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return { a: () => tf.matMul(d, b!, false, true), b: () => tf.matMul(a!, d, true, false) };
      if (!transposeA && transposeB) return { a: () => tf.matMul(d, b!, false, false), b: () => tf.matMul(d, a!, true, false) };
      if (transposeA && !transposeB) return { a: () => tf.matMul(b!, d, false, true), b: () => tf.matMul(a!, d, false, false) };
      return { a: () => tf.matMul(b!, d, true, true), b: () => tf.matMul(d, a!, true, true) };
    },
  });
  tf.registerGradient({
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as G[];
      const shape = x!.shape.slice();
      for (const ax of parseAxis((attrs as unknown as { axis: number | number[] }).axis, x!.shape)) shape[ax] = 1;
      const derX = tf.mul(tf.reshape(dy as G, shape), tf.ones(x!.shape, 'float32'));
      return { x: () => derX };
    },
  });
  tf.registerGradient({
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as G[];
      const axes = parseAxis((attrs as unknown as { axis: number | number[] }).axis, x!.shape);
      const reduceSize = axes.reduce((p, ax) => p * x!.shape[ax]!, 1);
      return {
        x: () => {
          const shape = x!.shape.slice();
          for (const ax of axes) shape[ax] = 1;
          return tf.div(tf.mul(tf.reshape(dy as G, shape), tf.ones(x!.shape, 'float32')), reduceSize);
        },
      };
    },
  });
}
