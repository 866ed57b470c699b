/** The `nd.nn` namespace. */
export { Module, Parameter, toSnake } from './module.js';
export type { StateDict, LoadResult } from './module.js';
export { Sequential, ModuleList, ModuleDict } from './containers.js';
export { Identity, Linear } from './linear.js';
export type { LayerOptions } from './linear.js';
export * from './layers.js';
export * from './loss.js';
export * from './recurrent.js';
export * from './attention.js';
export * from './transformer.js';
export * as init from '../init.js';
export * as functional from './functional.js';
export * as utils from './utils.js';
