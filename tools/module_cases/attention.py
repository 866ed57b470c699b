"""Module cases: MultiheadAttention, Transformer layers and stacks, positional encodings.

Inputs are listed in a fixed order: the sequence tensors (query[, key[, value]] or src / tgt,
memory), then the masks that the args switch on, in the order attn (attnMask / srcMask / tgtMask),
memory_mask, kpm (keyPaddingMask / srcKeyPaddingMask / tgtKeyPaddingMask), memory_kpm.
Bool masks use the 'mask' dist (index 0 of the last dim never masked, so no attention row is
fully masked); 'causal' builds nn.Transformer.generate_square_subsequent_mask in the forward
(the TypeScript side uses isCausal, or generateSquareSubsequentMask when causal == 'mask').
Everything runs in eval mode or with dropout 0: random dropout masks cannot match torch's.
With parameters requiring grad, torch 1.13 never takes its fused "fast path".
"""
import math

import torch
import torch.nn as nn

SQ = nn.Transformer.generate_square_subsequent_mask


def _mha(a):
    return nn.MultiheadAttention(a['E'], a['H'], dropout=a.get('dropout', 0.0), bias=a.get('bias', True),
                                 add_bias_kv=a.get('addBiasKv', False), add_zero_attn=a.get('addZeroAttn', False),
                                 kdim=a.get('kdim'), vdim=a.get('vdim'), batch_first=a.get('batchFirst', False))


def _layer_kw(a):
    return dict(dim_feedforward=a['ff'], dropout=a.get('dropout', 0.0), activation=a.get('activation', 'relu'),
                layer_norm_eps=a.get('eps', 1e-5), batch_first=a.get('batchFirst', False), norm_first=a.get('normFirst', False))


def _enc_layer(a):
    return nn.TransformerEncoderLayer(a['d'], a['H'], **_layer_kw(a))


def _dec_layer(a):
    return nn.TransformerDecoderLayer(a['d'], a['H'], **_layer_kw(a))


class SinusoidalPE(nn.Module):
    """The PyTorch tutorial's PositionalEncoding, computed in float64, layout per batch_first."""

    def __init__(self, d, max_len, batch_first):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)[:, : d // 2]
        self.register_buffer('pe', pe.float(), persistent=False)
        self.batch_first = batch_first

    def forward(self, x):
        if x.dim() == 3 and self.batch_first:
            return x + self.pe[: x.shape[1]]
        s = x.shape[0]
        return x + (self.pe[:s].unsqueeze(1) if x.dim() == 3 else self.pe[:s])


class LearnedPE(nn.Module):
    def __init__(self, max_len, d, batch_first):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, d))
        self.batch_first = batch_first

    def forward(self, x):
        if x.dim() == 3 and self.batch_first:
            return x + self.weight[: x.shape[1]]
        s = x.shape[0]
        return x + (self.weight[:s].unsqueeze(1) if x.dim() == 3 else self.weight[:s])


BUILD = {
    'MHA': _mha,
    'EncLayer': _enc_layer,
    'DecLayer': _dec_layer,
    'Encoder': lambda a: nn.TransformerEncoder(_enc_layer(a), a['n'], norm=nn.LayerNorm(a['d']) if a.get('norm') else None),
    'Decoder': lambda a: nn.TransformerDecoder(_dec_layer(a), a['n'], norm=nn.LayerNorm(a['d']) if a.get('norm') else None),
    'Transformer': lambda a: nn.Transformer(a['d'], a['H'], a['nEnc'], a['nDec'], **_layer_kw(a)),
    'SinPE': lambda a: SinusoidalPE(a['d'], a['maxLen'], a.get('batchFirst', False)),
    'LearnedPE': lambda a: LearnedPE(a['maxLen'], a['d'], a.get('batchFirst', False)),
}


def _seq_len(x, a):
    return x.shape[1] if (x.dim() == 3 and a.get('batchFirst')) else x.shape[0]


def mha_forward(m, xs, a):
    it = iter(xs)
    q = next(it)
    if a.get('self'):
        k = v = q
    else:
        k = next(it)
        v = k if a.get('kvSame') else next(it)
    attn = next(it) if a.get('attn') else None
    kpm = next(it) if a.get('kpm') else None
    if a.get('causal'):
        attn = SQ(_seq_len(q, a)).to(q.dtype)
    out, w = m(q, k, v, key_padding_mask=kpm, need_weights=a.get('needWeights', True), attn_mask=attn,
               average_attn_weights=a.get('average', True))
    return out if w is None else (out, w)


def enc_forward(m, xs, a):
    it = iter(xs)
    src = next(it)
    attn = next(it) if a.get('attn') else None
    kpm = next(it) if a.get('kpm') else None
    if a.get('causal'):
        attn = SQ(_seq_len(src, a)).to(src.dtype)
    if isinstance(m, nn.TransformerEncoder):
        return m(src, mask=attn, src_key_padding_mask=kpm)
    return m(src, src_mask=attn, src_key_padding_mask=kpm)


def dec_forward(m, xs, a):
    it = iter(xs)
    tgt = next(it)
    mem = next(it)
    tgt_mask = next(it) if a.get('attn') else None
    mem_mask = next(it) if a.get('memMask') else None
    tgt_kpm = next(it) if a.get('kpm') else None
    mem_kpm = next(it) if a.get('memKpm') else None
    if a.get('causal'):
        tgt_mask = SQ(_seq_len(tgt, a)).to(tgt.dtype)
    return m(tgt, mem, tgt_mask=tgt_mask, memory_mask=mem_mask, tgt_key_padding_mask=tgt_kpm,
             memory_key_padding_mask=mem_kpm)


def transformer_forward(m, xs, a):
    it = iter(xs)
    src = next(it)
    tgt = next(it)
    src_mask = next(it) if a.get('srcMask') else None
    tgt_kpm = next(it) if a.get('kpm') else None
    mem_kpm = next(it) if a.get('memKpm') else None
    tgt_mask = SQ(_seq_len(tgt, a)).to(tgt.dtype) if a.get('causal') else None
    return m(src, tgt, src_mask=src_mask, tgt_mask=tgt_mask, src_key_padding_mask=mem_kpm,
             tgt_key_padding_mask=tgt_kpm, memory_key_padding_mask=mem_kpm)


FORWARD = {'Transformer': transformer_forward, 'MHA': mha_forward, 'EncLayer': enc_forward, 'Encoder': enc_forward, 'DecLayer': dec_forward, 'Decoder': dec_forward}

E, H, L, S, N = 8, 2, 4, 5, 3


def mha(id_, inputs, mode='eval', dtype=None, **args):
    a = {'E': E, 'H': H}
    a.update(args)
    c = {'id': 'MHA/' + id_, 'ctor': 'MHA', 'args': a, 'inputs': inputs, 'mode': mode}
    if dtype:
        c['dtype'] = dtype
    return c


CASES = [
    # self-attention, sequence first and batch first, eval and train (dropout 0)
    mha('self', [([L, N, E], 'normal')], self=True),
    mha('self_train', [([L, N, E], 'normal')], mode='train', self=True),
    mha('self_batch_first', [([N, L, E], 'normal')], self=True, batchFirst=True),
    # cross-attention: separate key and value, key is value (torch's encoder-decoder path)
    mha('cross', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal')]),
    mha('cross_kv_same', [([L, N, E], 'normal'), ([S, N, E], 'normal')], kvSame=True),
    mha('cross_batch_first', [([N, L, E], 'normal'), ([N, S, E], 'normal'), ([N, S, E], 'normal')], mode='train', batchFirst=True),
    # kdim / vdim differing: separate q/k/v projection weights
    mha('kdim_vdim', [([L, N, E], 'normal'), ([S, N, 6], 'normal'), ([S, N, 5], 'normal')], kdim=6, vdim=5),
    mha('kdim_batch_first_masks', [([N, L, E], 'normal'), ([N, S, 6], 'normal'), ([N, S, 6], 'normal'), ([L, S], 'mask', 'bool'), ([N, S], 'mask', 'bool')],
        kdim=6, vdim=6, batchFirst=True, attn=True, kpm=True),
    # masks
    mha('kpm_bool', [([L, N, E], 'normal'), ([N, L], 'mask', 'bool')], self=True, kpm=True),
    mha('kpm_float', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([N, S], 'normal')], kpm=True),
    mha('attn_bool_2d', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([L, S], 'mask', 'bool')], attn=True),
    mha('attn_float_2d', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([L, S], 'normal')], attn=True),
    mha('attn_bool_3d', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([N * H, L, S], 'mask', 'bool')], attn=True),
    mha('attn_float_3d_kpm_bool', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([N * H, L, S], 'normal'), ([N, S], 'mask', 'bool')],
        attn=True, kpm=True),
    mha('attn_bool_kpm_bool', [([L, N, E], 'normal'), ([L, L], 'mask', 'bool'), ([N, L], 'mask', 'bool')],
        self=True, attn=True, kpm=True),
    mha('causal', [([L, N, E], 'normal')], self=True, causal='flag'),
    mha('causal_mask_batch_first', [([N, L, E], 'normal'), ([N, L], 'mask', 'bool')], self=True, causal='mask', kpm=True, batchFirst=True),
    # weights: per head, none
    mha('weights_per_head', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([L, S], 'mask', 'bool')], attn=True, average=False),
    mha('no_weights', [([L, N, E], 'normal')], self=True, needWeights=False),
    mha('no_bias', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal')], bias=False),
    # bias_k / bias_v and zero attention (with masks, which grow a column)
    mha('bias_kv', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([L, S], 'mask', 'bool'), ([N, S], 'mask', 'bool')],
        addBiasKv=True, attn=True, kpm=True),
    mha('zero_attn', [([L, N, E], 'normal'), ([S, N, E], 'normal'), ([S, N, E], 'normal'), ([N * H, L, S], 'normal'), ([N, S], 'mask', 'bool')],
        addZeroAttn=True, attn=True, kpm=True, average=False),
    mha('bias_kv_zero_attn_kdim', [([L, N, E], 'normal'), ([S, N, 6], 'normal'), ([S, N, 6], 'normal')], addBiasKv=True, addZeroAttn=True, kdim=6, vdim=6),
    # size-1 edges and unbatched input
    mha('batch1', [([L, 1, E], 'normal'), ([S, 1, E], 'normal'), ([S, 1, E], 'normal'), ([1, S], 'mask', 'bool')], kpm=True),
    mha('seq1', [([1, N, E], 'normal'), ([1, N, E], 'normal'), ([1, N, E], 'normal')]),
    mha('heads1', [([L, N, E], 'normal')], self=True, H=1, average=False),
    mha('all_ones', [([1, 1, 1], 'normal')], self=True, E=1, H=1),
    mha('unbatched', [([L, E], 'normal'), ([S, E], 'normal'), ([S, E], 'normal'), ([S], 'mask', 'bool')], kpm=True),
    mha('unbatched_attn_3d', [([L, E], 'normal'), ([H, L, L], 'mask', 'bool')], self=True, attn=True, average=False, batchFirst=True),
    mha('f64', [([L, N, E], 'normal', 'float64'), ([S, N, E], 'normal', 'float64'), ([S, N, E], 'normal', 'float64'), ([L, S], 'normal', 'float64'), ([N, S], 'mask', 'bool')],
        dtype='float64', attn=True, kpm=True),
]

D, FF = 8, 16
LAYER = {'d': D, 'H': H, 'ff': FF}


def layer(kind, id_, inputs, mode='eval', dtype=None, **args):
    a = dict(LAYER)
    a.update(args)
    c = {'id': kind + '/' + id_, 'ctor': kind, 'args': a, 'inputs': inputs, 'mode': mode}
    if dtype:
        c['dtype'] = dtype
    return c


T = 4  # target length of the decoder cases; S is the source length
CASES += [
    layer('EncLayer', 'post_relu', [([S, N, D], 'normal')]),
    layer('EncLayer', 'post_relu_train', [([S, N, D], 'normal')], mode='train'),
    layer('EncLayer', 'pre_gelu', [([S, N, D], 'normal')], activation='gelu', normFirst=True),
    layer('EncLayer', 'masks', [([S, N, D], 'normal'), ([S, S], 'mask', 'bool'), ([N, S], 'mask', 'bool')], attn=True, kpm=True),
    layer('EncLayer', 'float_mask_pre', [([S, N, D], 'normal'), ([S, S], 'normal')], attn=True, normFirst=True, eps=1e-3),
    layer('EncLayer', 'causal_batch_first', [([N, S, D], 'normal'), ([N, S], 'mask', 'bool')], causal='flag', kpm=True, batchFirst=True),
    layer('EncLayer', 'kpm_batch_first_gelu', [([N, S, D], 'normal'), ([N, S], 'mask', 'bool')], kpm=True, batchFirst=True, activation='gelu'),
    layer('EncLayer', 'unbatched', [([S, D], 'normal'), ([S], 'mask', 'bool')], kpm=True),
    layer('EncLayer', 'heads1_seq1', [([1, 2, D], 'normal')], H=1),
    layer('EncLayer', 'f64', [([S, N, D], 'normal', 'float64'), ([S, S], 'mask', 'bool')], dtype='float64', attn=True, activation='gelu'),
    layer('DecLayer', 'post_causal_memkpm', [([T, N, D], 'normal'), ([S, N, D], 'normal'), ([N, S], 'mask', 'bool')], causal='flag', memKpm=True),
    layer('DecLayer', 'pre_gelu_all_masks', [([N, T, D], 'normal'), ([N, S, D], 'normal'), ([T, T], 'mask', 'bool'), ([T, S], 'normal'),
                                             ([N, T], 'mask', 'bool'), ([N, S], 'mask', 'bool')],
          normFirst=True, activation='gelu', batchFirst=True, attn=True, memMask=True, kpm=True, memKpm=True),
    layer('DecLayer', 'train_causal_mask', [([T, N, D], 'normal'), ([S, N, D], 'normal')], mode='train', causal='mask'),
    layer('DecLayer', 'unbatched', [([T, D], 'normal'), ([S, D], 'normal'), ([T, S], 'mask', 'bool')], memMask=True),
    layer('DecLayer', 'f64', [([T, N, D], 'normal', 'float64'), ([S, N, D], 'normal', 'float64')], dtype='float64', causal='flag'),
    layer('Encoder', 'two_layers_norm', [([S, N, D], 'normal'), ([S, S], 'mask', 'bool'), ([N, S], 'mask', 'bool')], n=2, norm=True, attn=True, kpm=True),
    layer('Encoder', 'three_layers_pre_batch_first', [([N, S, D], 'normal')], n=3, normFirst=True, batchFirst=True, causal='flag', mode='train'),
    layer('Encoder', 'kpm_only_batch_first', [([N, S, D], 'normal'), ([N, S], 'mask', 'bool')], n=2, batchFirst=True, kpm=True),
    layer('Decoder', 'two_layers_norm', [([T, N, D], 'normal'), ([S, N, D], 'normal'), ([N, S], 'mask', 'bool')], n=2, norm=True, causal='flag', memKpm=True),
    layer('Transformer', 'post', [([S, N, D], 'normal'), ([T, N, D], 'normal'), ([S, S], 'mask', 'bool'), ([N, T], 'mask', 'bool'), ([N, S], 'mask', 'bool')],
          nEnc=2, nDec=1, causal='flag', srcMask=True, kpm=True, memKpm=True),
    layer('Transformer', 'pre_gelu_batch_first_train', [([N, S, D], 'normal'), ([N, T, D], 'normal')],
          nEnc=1, nDec=2, normFirst=True, activation='gelu', batchFirst=True, causal='mask', mode='train'),
    layer('Decoder', 'pre_gelu_batch_first', [([N, T, D], 'normal'), ([N, S, D], 'normal')], n=2, normFirst=True, activation='gelu', batchFirst=True, causal='mask'),
]

CASES += [
    {'id': 'SinPE/seq_first', 'ctor': 'SinPE', 'args': {'d': 8, 'maxLen': 12}, 'inputs': [([5, 3, 8], 'normal')]},
    {'id': 'SinPE/batch_first', 'ctor': 'SinPE', 'args': {'d': 8, 'maxLen': 12, 'batchFirst': True}, 'inputs': [([3, 5, 8], 'normal')]},
    {'id': 'SinPE/unbatched_odd', 'ctor': 'SinPE', 'args': {'d': 7, 'maxLen': 5}, 'inputs': [([5, 7], 'normal')]},
    {'id': 'SinPE/long', 'ctor': 'SinPE', 'args': {'d': 6, 'maxLen': 300, 'batchFirst': True}, 'inputs': [([1, 300, 6], 'normal')], 'mode': 'eval'},
    {'id': 'LearnedPE/seq_first', 'ctor': 'LearnedPE', 'args': {'d': 8, 'maxLen': 10}, 'inputs': [([5, 3, 8], 'normal')]},
    {'id': 'LearnedPE/batch_first', 'ctor': 'LearnedPE', 'args': {'d': 8, 'maxLen': 10, 'batchFirst': True}, 'inputs': [([3, 6, 8], 'normal')], 'mode': 'eval'},
    {'id': 'LearnedPE/unbatched_f64', 'ctor': 'LearnedPE', 'args': {'d': 4, 'maxLen': 4}, 'inputs': [([4, 4], 'normal', 'float64')], 'dtype': 'float64'},
]
