// The WebAssembly kernels of the `wasm` backend (AssemblyScript, compiled by tools/build_wasm.mjs).
export { relaxedSimd } from './common';
export * from './fill';
export * from './gemm';
export * from './copy';
export * from './elementwise';
export * from './reduce';
export * from './fused';
export * from './conv';
export * from './winograd';
