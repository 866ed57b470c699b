/**
 * The wasm backend's fused kernels (assembly/fused.ts): softmax, layerNorm and batchNorm (forward
 * and backward) and adamStep on float32, philoxBernoulli on float32 and float64, split over
 * threads by rows, channels or ranges. Other dtypes run the reference implementations
 * (cpu/fused.ts) on the same memory.
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
      if (a.storage.dtype !== 'float32') return cpuFused.softmax(a, out, outer, size, log);
      rt.run('softmax_f32', [ptrOf(a), ptrOf(out), outer, size, log ? 1 : 0], rows(outer, size));
    },
    softmaxBackward(y, g, out, outer, size, log) {
      if (y.storage.dtype !== 'float32') return cpuFused.softmaxBackward(y, g, out, outer, size, log);
      rt.run('softmax_bwd_f32', [ptrOf(y), ptrOf(g), ptrOf(out), outer, size, log ? 1 : 0], rows(outer, size));
    },
    layerNorm(x, w, b, out, mean, rstd, outer, size, eps) {
      if (x.storage.dtype !== 'float32') return cpuFused.layerNorm(x, w, b, out, mean, rstd, outer, size, eps);
      rt.run(
        'layernorm_f32',
        [ptrOf(x), w ? ptrOf(w) : 0, b ? ptrOf(b) : 0, ptrOf(out), ptrOf(mean), ptrOf(rstd), outer, size, eps],
        rows(outer, size),
      );
    },
    layerNormBackward(g, x, w, mean, rstd, gx, gw, gb, outer, size) {
      if (x.storage.dtype !== 'float32') return cpuFused.layerNormBackward(g, x, w, mean, rstd, gx, gw, gb, outer, size);
      if (gx) {
        rt.run('layernorm_bwd_f32', [ptrOf(g), ptrOf(x), w ? ptrOf(w) : 0, ptrOf(mean), ptrOf(rstd), ptrOf(gx), outer, size], rows(outer, size));
      }
      if (gw || gb) {
        // threads split the columns (in multiples of 16)
        const parts = Math.min(Math.ceil(size / 16), partsFor(rt, outer * size, ROW_GRAIN));
        rt.run('layernorm_bwd_wb_f32', [ptrOf(g), ptrOf(x), ptrOf(mean), ptrOf(rstd), gw ? ptrOf(gw) : 0, gb ? ptrOf(gb) : 0, outer, size], parts);
      }
    },
    batchNorm(x, w, b, out, mean, variance, rstd, sp, running) {
      if (x.storage.dtype !== 'float32') return cpuFused.batchNorm(x, w, b, out, mean, variance, rstd, sp, running);
      const r = running;
      rt.run('batchnorm_f32', [
        ptrOf(x), w ? ptrOf(w) : 0, b ? ptrOf(b) : 0, ptrOf(out), ptrOf(mean), ptrOf(variance), ptrOf(rstd),
        sp.n, sp.c, sp.inner, sp.eps,
        r ? ptrOf(r.mean) : 0, r ? ptrOf(r.var) : 0, r ? ptrOf(r.meanOut) : 0, r ? ptrOf(r.varOut) : 0,
        r?.keep ?? 0, r?.momentum ?? 0, r?.unbias ?? 0,
      ], Math.min(Math.ceil(sp.c / 4), partsFor(rt, sp.n * sp.c * sp.inner, ROW_GRAIN)));
    },
    batchNormBackward(g, x, w, mean, rstd, gx, gw, gb, sp) {
      if (x.storage.dtype !== 'float32') return cpuFused.batchNormBackward(g, x, w, mean, rstd, gx, gw, gb, sp);
      rt.run('batchnorm_bwd_f32', [
        ptrOf(g), ptrOf(x), w ? ptrOf(w) : 0, ptrOf(mean), ptrOf(rstd), gx ? ptrOf(gx) : 0, gw ? ptrOf(gw) : 0, gb ? ptrOf(gb) : 0,
        sp.n, sp.c, sp.inner,
      ], Math.min(Math.ceil(sp.c / 4), partsFor(rt, sp.n * sp.c * sp.inner, ROW_GRAIN)));
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
      if (ops.param.storage.dtype !== 'float32') return cpuFused.adamStep(ops, size, sp);
      rt.run('adam_f32', [
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
