/**
 * The public surface shared by the Node entry (src/index.ts) and the browser entry
 * (src/browser.ts); each entry sets up its platform's backends first and re-exports this.
 */
import './tensor_methods.js';
import './autograd/engine.js';

export { Tensor } from './autograd/tensor.js';
export type { BackwardOptions } from './autograd/tensor.js';
export { NDArray } from './ndarray/ndarray.js';
export type { SliceSpec, NestedArray } from './ndarray/ndarray.js';
export type { DType } from './ndarray/dtype.js';
export { promoteTypes } from './ndarray/dtype.js';
export { getBackend, listDevices, registerBackend, setDefaultDevice, getDefaultDevice } from './ndarray/backend.js';
export type { Backend } from './ndarray/backend.js';
export { info } from './info.js';
export type { Info, WasmInfo } from './info.js';
export * from './creation.js';
export * from './ops/primitives.js';
export { getItem, setItem } from './ops/indexing.js';
export type { Index } from './ops/indexing.js';
export * from './functional/activation.js';
export * from './functional/conv.js';
export { setConvAlgorithm, getConvAlgorithm, WINOGRAD_MIN_CHANNELS, type ConvAlgorithm } from './ops/winograd.js';
export { scaledDotProductAttention, attentionWithWeights, type AttentionOptions } from './functional/attention.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd/mode.js';
export { grad, valueAndGrad } from './autograd/functional.js';
export { scope, keep } from './autograd/scope.js';
export {
  Generator,
  manualSeed,
  seed,
  initialSeed,
  getRngState,
  setRngState,
  rand,
  randn,
  randint,
  randperm,
  bernoulli,
  normal,
  normal_,
  uniform_,
  truncNormal,
  defaultGenerator,
} from './random.js';
export type { RandomOptions, FillOptions } from './random.js';
export { GraphError, DeviceError } from './errors.js';
export * as autograd from './autograd/public.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * from './io/index.js';
export * as models from './models/index.js';
export * as datasets from './data/datasets.js';
export * as utils from './data/utils.js';
export * as transforms from './data/transforms.js';
export * as train from './train/index.js';
export * as cuda from './ndarray/cuda/public.js';
