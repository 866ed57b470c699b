/**
 * The wasm backend's fused kernels (assembly/fused.ts): softmax, layerNorm and batchNorm (forward
 * and backward), adamStep and philoxBernoulli on float32 and float64, split over threads by rows,
 * channels or ranges. The float64 kernels port the reference (cpu/fused.ts) operation for
 * operation and equal it bit for bit, except softmax's exp/log (AssemblyScript's Math.exp/log,
 * within ~2 ulp of V8's). Other dtypes run the reference implementations on the same memory.
 */
import type { Backend } from '../backend.js';
import { cpuFused, type FusedMember } from '../cpu/fused.js';
import { partsFor, ptrOf, type WasmRuntime } from './runtime.js';

/** Elements per thread below which splitting a row kernel costs more than it saves. */
const ROW_GRAIN = 1 << 16;
/** Elements per thread below which splitting the Philox draws does not pay (~10 ns each). */
const PHILOX_GRAIN = 1 << 14;
/** Elements per thread below which splitting the (memory-bound) Adam step does not pay. */
const ADAM_GRAIN = 1 << 17;

export function fusedKernels(rt: WasmRuntime): Pick<Required<Backend>, FusedMember> {
  const rows = (outer: number, size: number) => Math.min(outer, partsFor(rt, outer * size, ROW_GRAIN));
  return {
    softmax(a, out, outer, size, log) {
      const dt = a.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.softmax(a, out, outer, size, log);
      rt.run(dt === 'float32' ? 'softmax_f32' : 'softmax_f64', [ptrOf(a), ptrOf(out), outer, size, log ? 1 : 0], rows(outer, size));
    },
    softmaxBackward(y, g, out, outer, size, log) {
      const dt = y.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.softmaxBackward(y, g, out, outer, size, log);
      rt.run(dt === 'float32' ? 'softmax_bwd_f32' : 'softmax_bwd_f64', [ptrOf(y), ptrOf(g), ptrOf(out), outer, size, log ? 1 : 0], rows(outer, size));
    },
    layerNorm(x, w, b, out, mean, rstd, outer, size, eps) {
      const dt = x.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.layerNorm(x, w, b, out, mean, rstd, outer, size, eps);
      rt.run(
        dt === 'float32' ? 'layernorm_f32' : 'layernorm_f64',
        [ptrOf(x), w ? ptrOf(w) : 0, b ? ptrOf(b) : 0, ptrOf(out), ptrOf(mean), ptrOf(rstd), outer, size, eps],
        rows(outer, size),
      );
    },
    layerNormBackward(g, x, w, mean, rstd, gx, gw, gb, outer, size) {
      const dt = x.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.layerNormBackward(g, x, w, mean, rstd, gx, gw, gb, outer, size);
      const sfx = dt === 'float32' ? '_f32' : '_f64';
      if (gx) {
        rt.run('layernorm_bwd' + sfx, [ptrOf(g), ptrOf(x), w ? ptrOf(w) : 0, ptrOf(mean), ptrOf(rstd), ptrOf(gx), outer, size], rows(outer, size));
      }
      if (gw || gb) {
        // threads split the columns (in multiples of 16)
        const parts = Math.min(Math.ceil(size / 16), partsFor(rt, outer * size, ROW_GRAIN));
        rt.run('layernorm_bwd_wb' + sfx, [ptrOf(g), ptrOf(x), ptrOf(mean), ptrOf(rstd), gw ? ptrOf(gw) : 0, gb ? ptrOf(gb) : 0, outer, size], parts);
      }
    },
    batchNorm(x, w, b, out, mean, variance, rstd, sp, running) {
      const dt = x.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.batchNorm(x, w, b, out, mean, variance, rstd, sp, running);
      const r = running;
      // threads split the channels in fours (float32) or twos (float64)
      const cg = dt === 'float32' ? 4 : 2;
      rt.run(dt === 'float32' ? 'batchnorm_f32' : 'batchnorm_f64', [
        ptrOf(x), w ? ptrOf(w) : 0, b ? ptrOf(b) : 0, ptrOf(out), ptrOf(mean), ptrOf(variance), ptrOf(rstd),
        sp.n, sp.c, sp.inner, sp.eps,
        r ? ptrOf(r.mean) : 0, r ? ptrOf(r.var) : 0, r ? ptrOf(r.meanOut) : 0, r ? ptrOf(r.varOut) : 0,
        r?.keep ?? 0, r?.momentum ?? 0, r?.unbias ?? 0,
      ], Math.min(Math.ceil(sp.c / cg), partsFor(rt, sp.n * sp.c * sp.inner, ROW_GRAIN)));
    },
    batchNormBackward(g, x, w, mean, rstd, gx, gw, gb, sp) {
      const dt = x.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.batchNormBackward(g, x, w, mean, rstd, gx, gw, gb, sp);
      const cg = dt === 'float32' ? 4 : 2;
      rt.run(dt === 'float32' ? 'batchnorm_bwd_f32' : 'batchnorm_bwd_f64', [
        ptrOf(g), ptrOf(x), w ? ptrOf(w) : 0, ptrOf(mean), ptrOf(rstd), gx ? ptrOf(gx) : 0, gw ? ptrOf(gw) : 0, gb ? ptrOf(gb) : 0,
        sp.n, sp.c, sp.inner,
      ], Math.min(Math.ceil(sp.c / cg), partsFor(rt, sp.n * sp.c * sp.inner, ROW_GRAIN)));
    },
    philoxBernoulli(out, size, sp, p, value) {
      const dt = out.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.philoxBernoulli(out, size, sp, p, value);
      if (size <= 0) return;
      rt.run(dt === 'float32' ? 'philox_bernoulli_f32' : 'philox_bernoulli_f64', [
        ptrOf(out), size, p, value, sp.key0 >>> 0, sp.key1 >>> 0, sp.counter % 4294967296, Math.floor(sp.counter / 4294967296), sp.phase,
      ], partsFor(rt, size, PHILOX_GRAIN));
    },
    adamStep(ops, size, sp) {
      const dt = ops.param.storage.dtype;
      if (dt !== 'float32' && dt !== 'float64') return cpuFused.adamStep(ops, size, sp);
      // the same scalars as the reference computes (float32 kernels round them to f32 on the call)
      rt.run(dt === 'float32' ? 'adam_f32' : 'adam_f64', [
        ptrOf(ops.param), ptrOf(ops.grad), ptrOf(ops.expAvg), ptrOf(ops.expAvgSq),
        ptrOf(ops.paramOut), ptrOf(ops.expAvgOut), ptrOf(ops.expAvgSqOut), size,
        sp.maximize ? -1 : 1,
        sp.decoupled ? 0 : sp.weightDecay,
        sp.decoupled ? 1 - sp.lr * sp.weightDecay : 1,
        sp.beta1, 1 - sp.beta1, sp.beta2, 1 - sp.beta2,
        -sp.lr / (1 - sp.beta1 ** sp.step),
        Math.sqrt(1 - sp.beta2 ** sp.step),
        sp.eps,
      ], partsFor(rt, size, ADAM_GRAIN));
    },
  };
}
