/** needle-ts side of tools/module_cases/attention.py (input order and flags are documented there). */
import * as nd from '../../src/index.js';
import type { ModuleTable } from './harness.js';

type Args = Record<string, any>;

const seqLen = (x: nd.Tensor, a: Args) => (x.ndim === 3 && a.batchFirst ? x.shape[1]! : x.shape[0]!);

/** Causal masking the two ways: the isCausal flag, or generateSquareSubsequentMask as a mask. */
function causal(a: Args, x: nd.Tensor): { mask?: nd.Tensor; flag?: boolean } {
  if (a.causal === 'flag') return { flag: true };
  if (a.causal === 'mask') return { mask: nd.nn.generateSquareSubsequentMask(seqLen(x, a), { dtype: x.dtype }) };
  return {};
}

function layerOpts(a: Args, dtype: nd.DType): nd.nn.TransformerLayerOptions {
  return {
    dimFeedforward: a.ff, dropout: a.dropout ?? 0, activation: a.activation ?? 'relu', layerNormEps: a.eps ?? 1e-5,
    batchFirst: a.batchFirst ?? false, normFirst: a.normFirst ?? false, dtype,
  };
}

function encForward(m: nd.nn.TransformerEncoderLayer | nd.nn.TransformerEncoder, xs: nd.Tensor[], a: Args): nd.Tensor {
  let i = 0;
  const src = xs[i++]!;
  let attn = a.attn ? xs[i++]! : undefined;
  const kpm = a.kpm ? xs[i++]! : undefined;
  const c = causal(a, src);
  attn = attn ?? c.mask;
  if (m instanceof nd.nn.TransformerEncoder) return m.forward(src, { mask: attn, srcKeyPaddingMask: kpm, isCausal: c.flag });
  return m.forward(src, { srcMask: attn, srcKeyPaddingMask: kpm, isCausal: c.flag });
}

function decForward(m: nd.nn.TransformerDecoderLayer | nd.nn.TransformerDecoder, xs: nd.Tensor[], a: Args): nd.Tensor {
  let i = 0;
  const tgt = xs[i++]!;
  const memory = xs[i++]!;
  let tgtMask = a.attn ? xs[i++]! : undefined;
  const memoryMask = a.memMask ? xs[i++]! : undefined;
  const tgtKeyPaddingMask = a.kpm ? xs[i++]! : undefined;
  const memoryKeyPaddingMask = a.memKpm ? xs[i++]! : undefined;
  const c = causal(a, tgt);
  tgtMask = tgtMask ?? c.mask;
  return m.forward(tgt, memory, { tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal: c.flag });
}

export const ATTENTION: ModuleTable = {
  MHA: {
    build: (a, dtype) =>
      new nd.nn.MultiheadAttention(a.E, a.H, {
        dropout: a.dropout ?? 0, bias: a.bias ?? true, addBiasKv: a.addBiasKv ?? false, addZeroAttn: a.addZeroAttn ?? false,
        kdim: a.kdim ?? undefined, vdim: a.vdim ?? undefined, batchFirst: a.batchFirst ?? false, dtype,
      }),
    forward: (m: nd.nn.MultiheadAttention, xs, a) => {
      let i = 0;
      const q = xs[i++]!;
      let k = q;
      let v = q;
      if (!a.self) {
        k = xs[i++]!;
        v = a.kvSame ? k : xs[i++]!;
      }
      let attnMask = a.attn ? xs[i++]! : undefined;
      const keyPaddingMask = a.kpm ? xs[i++]! : undefined;
      const c = causal(a, q);
      attnMask = attnMask ?? c.mask;
      const [out, w] = m.forward(q, k, v, {
        keyPaddingMask, attnMask, isCausal: c.flag, needWeights: a.needWeights ?? true, averageAttnWeights: a.average ?? true,
      });
      return w === null ? out : [out, w];
    },
  },
  EncLayer: {
    build: (a, dtype) => new nd.nn.TransformerEncoderLayer(a.d, a.H, layerOpts(a, dtype)),
    forward: encForward,
  },
  DecLayer: {
    build: (a, dtype) => new nd.nn.TransformerDecoderLayer(a.d, a.H, layerOpts(a, dtype)),
    forward: decForward,
  },
  Encoder: {
    build: (a, dtype) =>
      new nd.nn.TransformerEncoder(new nd.nn.TransformerEncoderLayer(a.d, a.H, layerOpts(a, dtype)), a.n, {
        norm: a.norm ? new nd.nn.LayerNorm(a.d, { dtype }) : null,
      }),
    forward: encForward,
  },
  Decoder: {
    build: (a, dtype) =>
      new nd.nn.TransformerDecoder(new nd.nn.TransformerDecoderLayer(a.d, a.H, layerOpts(a, dtype)), a.n, {
        norm: a.norm ? new nd.nn.LayerNorm(a.d, { dtype }) : null,
      }),
    forward: decForward,
  },
  Transformer: {
    build: (a, dtype) =>
      new nd.nn.Transformer({ ...layerOpts(a, dtype), dModel: a.d, nhead: a.H, numEncoderLayers: a.nEnc, numDecoderLayers: a.nDec }),
    forward: (m: nd.nn.Transformer, xs, a) => {
      let i = 0;
      const src = xs[i++]!;
      const tgt = xs[i++]!;
      const srcMask = a.srcMask ? xs[i++]! : undefined;
      const tgtKeyPaddingMask = a.kpm ? xs[i++]! : undefined;
      const memKpm = a.memKpm ? xs[i++]! : undefined;
      const c = causal(a, tgt);
      return m.forward(src, tgt, {
        srcMask, tgtMask: c.mask, tgtIsCausal: c.flag, srcKeyPaddingMask: memKpm, tgtKeyPaddingMask, memoryKeyPaddingMask: memKpm,
      });
    },
  },
  SinPE: {
    build: (a, dtype) => new nd.nn.SinusoidalPositionalEncoding(a.d, { maxLen: a.maxLen, batchFirst: a.batchFirst ?? false, dtype }),
  },
  LearnedPE: {
    build: (a, dtype) => new nd.nn.LearnedPositionalEncoding(a.maxLen, a.d, { batchFirst: a.batchFirst ?? false, dtype }),
  },
};
