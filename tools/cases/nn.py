"""Op cases for the NN primitives: convolution, pooling, and the sliding-window primitives
im2col/col2im with their torch-style composites unfold/fold.

Shapes stay small: every case also runs a float64 first- and second-order finite-difference check.
Max pooling uses 'distinct' inputs (no ties: needle splits a tied maximum's gradient evenly,
torch routes it to one index).
"""
import torch
import torch.nn.functional as F


def _tup(v, n):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n


def _conv_args(p):
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in p.items()}


def _im2col(x, p):
    # needle's primitive: (N, C, *spatial) -> (N, C, *out, *kernel), no padding
    k, s, d = p['kernel'], p.get('stride', 1), p.get('dilation', 1)
    if len(k) == 1:
        x4 = x.unsqueeze(-2)
        k2, s2, d2 = (1, k[0]), (1, _tup(s, 1)[0]), (1, _tup(d, 1)[0])
    else:
        x4, k2, s2, d2 = x, tuple(k), _tup(s, 2), _tup(d, 2)
    cols = F.unfold(x4, k2, dilation=d2, stride=s2)  # (N, C * kh * kw, L)
    n, c = x.shape[0], x.shape[1]
    out = [(x.shape[2 + i] - _tup(d, len(k))[i] * (k[i] - 1) - 1) // _tup(s, len(k))[i] + 1 for i in range(len(k))]
    cols = cols.reshape(n, c, *k, *out)
    nk = len(k)
    return cols.permute(0, 1, *range(2 + nk, 2 + 2 * nk), *range(2, 2 + nk))


def _col2im(x, p):
    # needle's primitive: (N, C, *out, *kernel) -> (N, C, *size)
    k, s, d, size = p['kernel'], p.get('stride', 1), p.get('dilation', 1), p['size']
    nk = len(k)
    n, c = x.shape[0], x.shape[1]
    out = list(x.shape[2:2 + nk])
    cols = x.permute(0, 1, *range(2 + nk, 2 + 2 * nk), *range(2, 2 + nk)).reshape(n, c * int(torch.tensor(k).prod()), -1)
    if nk == 1:
        y = F.fold(cols, (1, size[0]), (1, k[0]), dilation=(1, _tup(d, 1)[0]), stride=(1, _tup(s, 1)[0]))
        return y.squeeze(-2)
    return F.fold(cols, tuple(size), tuple(k), dilation=_tup(d, 2), stride=_tup(s, 2))


TORCH = {
    'conv1d': lambda x, p: F.conv1d(x[0], x[1], x[2] if len(x) > 2 else None, **_conv_args(p)),
    'conv2d': lambda x, p: F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, **_conv_args(p)),
    'maxPool1d': lambda x, p: F.max_pool1d(x[0], p['k'], stride=p.get('stride'), padding=p.get('padding', 0), dilation=p.get('dilation', 1)),
    'maxPool2d': lambda x, p: F.max_pool2d(x[0], _conv_args(p)['k'], stride=_conv_args(p).get('stride'), padding=_conv_args(p).get('padding', 0),
                                           dilation=_conv_args(p).get('dilation', 1)),
    'avgPool1d': lambda x, p: F.avg_pool1d(x[0], p['k'], stride=p.get('stride'), padding=p.get('padding', 0),
                                           count_include_pad=p.get('countIncludePad', True)),
    'avgPool2d': lambda x, p: F.avg_pool2d(x[0], _conv_args(p)['k'], stride=_conv_args(p).get('stride'), padding=_conv_args(p).get('padding', 0),
                                           count_include_pad=p.get('countIncludePad', True), divisor_override=p.get('divisorOverride')),
    'unfold': lambda x, p: F.unfold(x[0], **_conv_args(p)),
    'fold': lambda x, p: F.fold(x[0], **_conv_args(p)),
    'im2col': lambda x, p: _im2col(x[0], p),
    'col2im': lambda x, p: _col2im(x[0], p),
}

C = []


def case(cid, op, inputs, gradcheck=True, torch_second_order=True, **params):
    C.append({'id': cid, 'op': op, 'inputs': inputs, 'params': params, 'gradcheck': gradcheck,
              'torch_second_order': torch_second_order})


# ---- conv1d: (N, C, L), weight (O, C / g, k)
case('conv1d/basic', 'conv1d', [([2, 3, 7], 'normal'), ([4, 3, 3], 'normal'), ([4], 'normal')])
case('conv1d/nobias', 'conv1d', [([2, 2, 6], 'normal'), ([3, 2, 2], 'normal')])
case('conv1d/stride-pad', 'conv1d', [([2, 2, 7], 'normal'), ([3, 2, 3], 'normal'), ([3], 'normal')], stride=2, padding=1)
case('conv1d/dilation', 'conv1d', [([1, 2, 8], 'normal'), ([2, 2, 3], 'normal')], dilation=2, padding=2)
case('conv1d/groups', 'conv1d', [([2, 4, 5], 'normal'), ([6, 2, 3], 'normal'), ([6], 'normal')], groups=2, padding=1)
case('conv1d/same-even', 'conv1d', [([2, 2, 5], 'normal'), ([2, 2, 4], 'normal')], padding='same')
case('conv1d/same-dil', 'conv1d', [([1, 2, 6], 'normal'), ([3, 2, 3], 'normal'), ([3], 'normal')], padding='same', dilation=2)
case('conv1d/valid', 'conv1d', [([2, 3, 5], 'normal'), ([2, 3, 5], 'normal')], padding='valid')
case('conv1d/unbatched', 'conv1d', [([2, 6], 'normal'), ([3, 2, 3], 'normal'), ([3], 'normal')], stride=2)
case('conv1d/f64', 'conv1d', [([2, 2, 5], 'normal', 'float64'), ([2, 2, 2], 'normal', 'float64')], stride=3, padding=1)

# ---- conv2d: (N, C, H, W), weight (O, C / g, kh, kw)
case('conv2d/basic', 'conv2d', [([2, 3, 5, 5], 'normal'), ([2, 3, 3, 3], 'normal'), ([2], 'normal')])
case('conv2d/nobias', 'conv2d', [([2, 2, 4, 5], 'normal'), ([3, 2, 2, 3], 'normal')])
case('conv2d/pad', 'conv2d', [([2, 2, 4, 4], 'normal'), ([2, 2, 3, 3], 'normal'), ([2], 'normal')], padding=1)
case('conv2d/stride', 'conv2d', [([2, 2, 6, 5], 'normal'), ([3, 2, 3, 3], 'normal'), ([3], 'normal')], stride=2, padding=1)
case('conv2d/stride-tuple', 'conv2d', [([1, 2, 5, 6], 'normal'), ([2, 2, 2, 3], 'normal')], stride=[2, 3], padding=[0, 1])
case('conv2d/dilation', 'conv2d', [([2, 2, 6, 6], 'normal'), ([2, 2, 3, 2], 'normal')], dilation=[2, 1], padding=[1, 0])
case('conv2d/groups', 'conv2d', [([2, 4, 4, 4], 'normal'), ([4, 2, 3, 3], 'normal'), ([4], 'normal')], groups=2, padding=1)
case('conv2d/depthwise', 'conv2d', [([2, 3, 5, 4], 'normal'), ([3, 1, 3, 3], 'normal')], groups=3, padding=1)
case('conv2d/same-odd', 'conv2d', [([2, 2, 5, 5], 'normal'), ([2, 2, 3, 3], 'normal'), ([2], 'normal')], padding='same')
case('conv2d/same-even', 'conv2d', [([1, 2, 4, 5], 'normal'), ([2, 2, 2, 4], 'normal')], padding='same')
case('conv2d/same-dil', 'conv2d', [([1, 2, 5, 5], 'normal'), ([2, 2, 2, 3], 'normal')], padding='same', dilation=[3, 2])
case('conv2d/valid', 'conv2d', [([2, 2, 5, 4], 'normal'), ([2, 2, 5, 4], 'normal')], padding='valid')
case('conv2d/1x1', 'conv2d', [([2, 4, 3, 3], 'normal'), ([3, 4, 1, 1], 'normal'), ([3], 'normal')])
case('conv2d/odd', 'conv2d', [([1, 3, 7, 5], 'normal'), ([2, 3, 4, 2], 'normal'), ([2], 'normal')], stride=[3, 2], padding=[2, 1])
case('conv2d/unbatched', 'conv2d', [([2, 5, 5], 'normal'), ([2, 2, 3, 3], 'normal')], stride=2)
case('conv2d/f64', 'conv2d', [([2, 2, 4, 4], 'normal', 'float64'), ([2, 2, 3, 3], 'normal', 'float64'), ([2], 'normal', 'float64')],
     stride=2, padding=1)

# ---- max pooling ('distinct': no ties)
case('maxPool1d/basic', 'maxPool1d', [([2, 3, 8], 'distinct')], k=2)
case('maxPool1d/overlap', 'maxPool1d', [([2, 2, 7], 'distinct')], k=3, stride=1)
case('maxPool1d/pad', 'maxPool1d', [([2, 2, 7], 'distinct')], k=3, stride=2, padding=1)
case('maxPool1d/dilation', 'maxPool1d', [([1, 2, 9], 'distinct')], k=2, stride=2, dilation=3, padding=1)
case('maxPool1d/unbatched', 'maxPool1d', [([3, 7], 'distinct')], k=3)
case('maxPool2d/basic', 'maxPool2d', [([2, 2, 4, 4], 'distinct')], k=2)
case('maxPool2d/overlap', 'maxPool2d', [([2, 2, 5, 5], 'distinct')], k=3, stride=1)
case('maxPool2d/pad', 'maxPool2d', [([2, 3, 5, 6], 'distinct')], k=3, stride=2, padding=1)
case('maxPool2d/rect', 'maxPool2d', [([2, 2, 6, 5], 'distinct')], k=[3, 2], stride=[2, 1], padding=[1, 0])
case('maxPool2d/dilation', 'maxPool2d', [([1, 2, 6, 6], 'distinct')], k=2, stride=1, dilation=2)
case('maxPool2d/unbatched', 'maxPool2d', [([2, 5, 5], 'distinct', 'float64')], k=2, stride=2, padding=1)

# ---- average pooling
case('avgPool1d/basic', 'avgPool1d', [([2, 3, 8], 'normal')], k=2)
case('avgPool1d/pad', 'avgPool1d', [([2, 2, 7], 'normal')], k=3, stride=2, padding=1)
case('avgPool1d/nocount', 'avgPool1d', [([2, 2, 7], 'normal')], k=3, stride=2, padding=1, countIncludePad=False)
case('avgPool1d/overlap', 'avgPool1d', [([1, 2, 6], 'normal')], k=4, stride=1)
case('avgPool2d/basic', 'avgPool2d', [([2, 2, 4, 4], 'normal')], k=2)
case('avgPool2d/pad', 'avgPool2d', [([2, 3, 5, 5], 'normal')], k=3, stride=2, padding=1)
case('avgPool2d/nocount', 'avgPool2d', [([2, 2, 5, 6], 'normal')], k=[3, 2], stride=[2, 1], padding=1, countIncludePad=False)
case('avgPool2d/divisor', 'avgPool2d', [([2, 2, 4, 5], 'normal')], k=2, stride=1, divisorOverride=3)
case('avgPool2d/unbatched', 'avgPool2d', [([2, 5, 5], 'normal', 'float64')], k=3, stride=2)

# ---- torch-style unfold / fold (im2col / col2im with padding, (N, C * kh * kw, L) layout)
case('unfold/basic', 'unfold', [([2, 2, 4, 5], 'normal')], kernel_size=[2, 3])
case('unfold/all', 'unfold', [([2, 2, 5, 5], 'normal')], kernel_size=3, dilation=[1, 2], padding=1, stride=2)
case('fold/basic', 'fold', [([2, 12, 9], 'normal')], output_size=[4, 5], kernel_size=[2, 3])
case('fold/all', 'fold', [([2, 18, 6], 'normal')], output_size=[5, 5], kernel_size=3, dilation=[1, 2], padding=1, stride=2)
case('fold/nooverlap', 'fold', [([1, 8, 6], 'normal')], output_size=[4, 6], kernel_size=2, stride=2)

# ---- the primitives: (N, C, *spatial) <-> (N, C, *out, *kernel)
case('im2col/1d', 'im2col', [([2, 2, 7], 'normal')], kernel=[3], stride=2)
case('im2col/1d-dil', 'im2col', [([1, 2, 8], 'normal')], kernel=[2], dilation=3)
case('im2col/2d', 'im2col', [([2, 2, 4, 5], 'normal')], kernel=[2, 3])
case('im2col/2d-all', 'im2col', [([1, 2, 6, 7], 'normal')], kernel=[3, 2], stride=[2, 1], dilation=[1, 2])
case('col2im/1d', 'col2im', [([2, 2, 3, 3], 'normal')], kernel=[3], stride=2, size=[7])
case('col2im/2d', 'col2im', [([2, 2, 3, 3, 2, 3], 'normal')], kernel=[2, 3], size=[4, 5])
case('col2im/2d-all', 'col2im', [([1, 2, 2, 5, 3, 2], 'normal')], kernel=[3, 2], stride=[2, 1], dilation=[1, 2], size=[6, 7])
case('col2im/disjoint', 'col2im', [([1, 2, 2, 2, 2, 2], 'normal')], kernel=[2, 2], stride=2, size=[5, 4])

# ---- 3x3 stride-1 convolutions with >= 8 channels: the wasm backend runs them with Winograd
# F(4x4, 3x3) (src/ops/winograd.ts); appended last so that the seeds of the cases above stay put
case('conv2d/wino-pad', 'conv2d', [([2, 16, 7, 9], 'normal'), ([16, 16, 3, 3], 'normal'), ([16], 'normal')], padding=1, gradcheck=False)
case('conv2d/wino-valid', 'conv2d', [([3, 16, 10, 6], 'normal'), ([17, 16, 3, 3], 'normal')], gradcheck=False)
case('conv2d/wino-same', 'conv2d', [([1, 18, 13, 17], 'normal'), ([16, 18, 3, 3], 'normal'), ([16], 'normal')], padding='same', gradcheck=False)

CASES = C
