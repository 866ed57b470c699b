"""Op cases for the core library: elementwise, reductions, linear algebra, shape and index ops."""
import torch
import torch.nn.functional as F


def _embed(x, shape, idx):
    out = torch.zeros(shape, dtype=x.dtype)
    out[tuple(idx)] = x  # in-place on a fresh tensor: differentiable with respect to x
    return out


def _getitem(x, items):
    conv = []
    for it in items:
        if it is None:
            conv.append(None)
        elif it == '...':
            conv.append(Ellipsis)
        elif isinstance(it, str):
            parts = [int(p) if p.strip() else None for p in it.split(':')]
            while len(parts) < 3:
                parts.append(None)
            conv.append(slice(*parts))
        else:
            conv.append(it)
    return x[tuple(conv)]


def _neg_step_slice(x, dim, start, stop, step):
    # torch forbids negative steps: flip, then take the equivalent positive slice
    n = x.shape[dim]
    idx = list(range(n))[slice(start, stop, step)]
    return torch.index_select(x, dim, torch.tensor(idx, dtype=torch.long))


def _int32(t):
    # needle-ts has no int64: integer sums stay int32
    return t.to(torch.int32) if t.dtype == torch.int64 else t


def _prod(x, p):
    d = p.get('dim')
    if d is None:
        return x.prod()
    dims = sorted([d] if isinstance(d, int) else d, key=lambda a: a % x.dim(), reverse=True)
    for a in dims:
        x = x.prod(dim=a, keepdim=p.get('keepdim', False))
    return x


def _pad(x, p):
    return F.pad(x, p['pad'], value=p.get('value', 0.0))


TORCH = {
    # unary
    'neg': lambda x, p: -x[0], 'abs': lambda x, p: x[0].abs(), 'sign': lambda x, p: x[0].sign(),
    'exp': lambda x, p: x[0].exp(), 'log': lambda x, p: x[0].log(), 'log1p': lambda x, p: x[0].log1p(),
    'expm1': lambda x, p: x[0].expm1(), 'sqrt': lambda x, p: x[0].sqrt(), 'rsqrt': lambda x, p: x[0].rsqrt(),
    'square': lambda x, p: x[0].square(), 'reciprocal': lambda x, p: x[0].reciprocal(),
    'sin': lambda x, p: x[0].sin(), 'cos': lambda x, p: x[0].cos(), 'tanh': lambda x, p: x[0].tanh(),
    'sigmoid': lambda x, p: x[0].sigmoid(), 'relu': lambda x, p: x[0].relu(), 'erf': lambda x, p: x[0].erf(),
    'floor': lambda x, p: x[0].floor(), 'ceil': lambda x, p: x[0].ceil(), 'round': lambda x, p: x[0].round(),
    'clamp': lambda x, p: x[0].clamp(p.get('min'), p.get('max')),
    'leakyRelu': lambda x, p: F.leaky_relu(x[0], p.get('slope', 0.01)),
    'gelu': lambda x, p: F.gelu(x[0], approximate=p.get('approximate', 'none')),
    'softplus': lambda x, p: F.softplus(x[0], beta=p.get('beta', 1), threshold=p.get('threshold', 20)),
    'softmax': lambda x, p: F.softmax(x[0], dim=p['dim']),
    'logSoftmax': lambda x, p: F.log_softmax(x[0], dim=p['dim']),
    'cast': lambda x, p: x[0].to({'float32': torch.float32, 'float64': torch.float64, 'int32': torch.int32, 'bool': torch.bool}[p['dtype']]),
    # binary
    'add': lambda x, p: x[0] + x[1], 'sub': lambda x, p: x[0] - x[1], 'mul': lambda x, p: x[0] * x[1],
    'div': lambda x, p: x[0] / x[1], 'pow': lambda x, p: x[0] ** x[1],
    'maximum': lambda x, p: torch.maximum(x[0], x[1]), 'minimum': lambda x, p: torch.minimum(x[0], x[1]),
    'addScalar': lambda x, p: x[0] + p['s'], 'rsubScalar': lambda x, p: p['s'] - x[0],
    'mulScalar': lambda x, p: x[0] * p['s'], 'rdivScalar': lambda x, p: p['s'] / x[0],
    'powScalar': lambda x, p: x[0] ** p['s'], 'rpowScalar': lambda x, p: p['s'] ** x[0],
    'eq': lambda x, p: x[0] == x[1], 'ne': lambda x, p: x[0] != x[1], 'lt': lambda x, p: x[0] < x[1],
    'le': lambda x, p: x[0] <= x[1], 'gt': lambda x, p: x[0] > x[1], 'ge': lambda x, p: x[0] >= x[1],
    'where': lambda x, p: torch.where(x[0], x[1], x[2]),
    # reductions
    'sum': lambda x, p: _int32(x[0].sum(dim=p['dim'], keepdim=p.get('keepdim', False)) if p.get('dim') is not None else x[0].sum()),
    'mean': lambda x, p: x[0].mean(dim=p['dim'], keepdim=p.get('keepdim', False)) if p.get('dim') is not None else x[0].mean(),
    'max': lambda x, p: torch.amax(x[0], dim=p['dim'], keepdim=p.get('keepdim', False)) if p.get('dim') is not None else x[0].max(),
    'min': lambda x, p: torch.amin(x[0], dim=p['dim'], keepdim=p.get('keepdim', False)) if p.get('dim') is not None else x[0].min(),
    'prod': lambda x, p: _prod(x[0], p),
    'var': lambda x, p: x[0].var(dim=p.get('dim'), unbiased=p.get('unbiased', True), keepdim=p.get('keepdim', False)),
    'std': lambda x, p: x[0].std(dim=p.get('dim'), unbiased=p.get('unbiased', True), keepdim=p.get('keepdim', False)),
    'logsumexp': lambda x, p: torch.logsumexp(x[0], dim=p['dim'], keepdim=p.get('keepdim', False)),
    'argmax': lambda x, p: x[0].argmax(dim=p.get('dim'), keepdim=p.get('keepdim', False)).to(torch.int32),
    'argmin': lambda x, p: x[0].argmin(dim=p.get('dim'), keepdim=p.get('keepdim', False)).to(torch.int32),
    # linear algebra
    'matmul': lambda x, p: torch.matmul(x[0], x[1]), 'mT': lambda x, p: x[0].mT, 'outer': lambda x, p: torch.outer(x[0], x[1]),
    # shape
    'reshape': lambda x, p: x[0].reshape(p['shape']), 'flatten': lambda x, p: x[0].flatten(p.get('start', 0), p.get('end', -1)),
    'squeeze': lambda x, p: x[0].squeeze(p['dim']) if p.get('dim') is not None else x[0].squeeze(),
    'unsqueeze': lambda x, p: x[0].unsqueeze(p['dim']), 'expand': lambda x, p: x[0].expand(*p['shape']),
    'permute': lambda x, p: x[0].permute(*p['dims']), 'transpose': lambda x, p: x[0].transpose(p['d0'], p['d1']),
    'getitem': lambda x, p: _getitem(x[0], p['items']),
    'getitemNegStep': lambda x, p: _neg_step_slice(x[0], p['dim'], p['start'], p['stop'], p['step']),
    'getitemTensor': lambda x, p: x[0][:, x[1].long()] if p.get('dim') == 1 else x[0][x[1].long()],
    'cat': lambda x, p: torch.cat(list(x), dim=p['dim']), 'stack': lambda x, p: torch.stack(list(x), dim=p['dim']),
    'split': lambda x, p: torch.split(x[0], p['sizes'], dim=p['dim'])[p['take']],
    'chunk': lambda x, p: torch.chunk(x[0], p['chunks'], dim=p['dim'])[p['take']],
    'narrow': lambda x, p: x[0].narrow(p['dim'], p['start'], p['length']),
    'flip': lambda x, p: x[0].flip(p['dims']), 'pad': lambda x, p: _pad(x[0], p),
    'dilate': lambda x, p: _embed(x[0], [s * (p['d'] + 1) if i in p['axes'] else s for i, s in enumerate(x[0].shape)],
                                  [slice(None, None, p['d'] + 1) if i in p['axes'] else slice(None) for i in range(x[0].dim())]),
    'undilate': lambda x, p: x[0][tuple(slice(None, None, p['d'] + 1) if i in p['axes'] else slice(None) for i in range(x[0].dim()))],
    'gather': lambda x, p: torch.gather(x[0], p['dim'], x[1].long()),
    'scatterAdd': lambda x, p: torch.scatter_add(x[0], p['dim'], x[1].long(), x[2]),
    'indexSelect': lambda x, p: torch.index_select(x[0], p['dim'], x[1].long()),
    'oneHot': lambda x, p: F.one_hot(x[0].long(), p['n']).to(torch.int32),
    'maskedFill': lambda x, p: x[0].masked_fill(x[1], p['value']),
    'tril': lambda x, p: x[0].tril(p.get('k', 0)), 'triu': lambda x, p: x[0].triu(p.get('k', 0)),
}

C = []


def case(cid, op, inputs, gradcheck=True, torch_second_order=True, **params):
    """gradcheck=False where finite differences are meaningless (ties, float32 round trips, 1e10 inputs);
    torch_second_order=False where torch's own second derivative is wrong (the float64 gradcheck
    is then the judge)."""
    C.append({'id': cid, 'op': op, 'inputs': inputs, 'params': params, 'gradcheck': gradcheck,
              'torch_second_order': torch_second_order})


# ---- unary
for op, dist in [('neg', 'normal'), ('abs', 'normal'), ('sign', 'normal'), ('exp', 'normal'), ('log', 'pos'),
                 ('log1p', 'pos'), ('expm1', 'normal'), ('sqrt', 'pos'), ('rsqrt', 'pos'), ('square', 'normal'),
                 ('reciprocal', 'pos'), ('sin', 'normal'), ('cos', 'normal'), ('tanh', 'normal'),
                 ('sigmoid', 'normal'), ('relu', 'normal'), ('erf', 'normal'), ('floor', 'normal'),
                 ('ceil', 'normal'), ('round', 'normal')]:
    case(op + '/2d', op, [([3, 4], dist)])
    case(op + '/f64', op, [([5], dist, 'float64')])
case('exp/scalar', 'exp', [([], 'normal')])
case('relu/empty', 'relu', [([0, 3], 'normal')])
case('clamp/both', 'clamp', [([4, 5], 'normal')], min=-0.5, max=0.7)
case('clamp/min', 'clamp', [([6], 'normal')], min=0.1)
case('clamp/max', 'clamp', [([2, 3], 'normal', 'float64')], max=-0.2)
case('leakyRelu/default', 'leakyRelu', [([3, 4], 'normal')])
case('leakyRelu/slope', 'leakyRelu', [([7], 'normal', 'float64')], slope=0.2)
case('gelu/none', 'gelu', [([3, 5], 'normal')])
case('gelu/tanh', 'gelu', [([3, 5], 'normal')], approximate='tanh')
case('gelu/f64', 'gelu', [([6], 'normal', 'float64')])
case('softplus/default', 'softplus', [([3, 4], 'normal')])
case('softplus/zero', 'softplus', [([5], 'zeros_some', 'float64')], gradcheck=False)
case('softplus/beta', 'softplus', [([3, 4], 'normal')], beta=2.0, threshold=1.5)
case('softmax/last', 'softmax', [([3, 5], 'normal')], dim=-1)
case('softmax/dim0', 'softmax', [([4, 2, 3], 'normal')], dim=0)
case('softmax/large', 'softmax', [([2, 4], 'normal')], dim=1)
case('logSoftmax/last', 'logSoftmax', [([3, 5], 'normal')], dim=-1)
case('logSoftmax/dim1', 'logSoftmax', [([2, 4, 3], 'normal', 'float64')], dim=1)
case('cast/f32-f64', 'cast', [([3, 4], 'normal')], dtype='float64')
case('cast/f64-f32', 'cast', [([3, 4], 'normal', 'float64')], gradcheck=False, dtype='float32')
case('cast/f32-int', 'cast', [([3, 4], 'normal')], dtype='int32')

# ---- binary
SHAPES = [('same', [3, 4], [3, 4]), ('bcast', [3, 1], [4]), ('bcast3', [2, 3, 4], [3, 1]),
          ('scalar0d', [2, 3], []), ('left1', [1], [2, 5])]
for op, da, db in [('add', 'normal', 'normal'), ('sub', 'normal', 'normal'), ('mul', 'normal', 'normal'),
                   ('div', 'normal', 'pos'), ('pow', 'pos', 'normal'), ('maximum', 'distinct', 'normal'),
                   ('minimum', 'normal', 'distinct')]:
    for tag, sa, sb in SHAPES:
        case('%s/%s' % (op, tag), op, [(sa, da), (sb, db)])
    case(op + '/f64', op, [([4], da, 'float64'), ([4], db, 'float64')])
case('maximum/ties', 'maximum', [([6], 'int:0:3', 'int32'), ([6], 'int:0:3', 'int32')])
case('maximum/tiesfloat', 'maximum', [([2, 3], 'zeros_some'), ([2, 3], 'zeros_some')], gradcheck=False)
case('minimum/tiesfloat', 'minimum', [([2, 3], 'zeros_some'), ([2, 3], 'zeros_some')], gradcheck=False)
case('add/int', 'add', [([3], 'int:-5:5', 'int32'), ([3], 'int:-5:5', 'int32')])
case('div/int', 'div', [([3], 'int:1:9', 'int32'), ([3], 'int:1:9', 'int32')])
case('add/mixed', 'add', [([3], 'int:-5:5', 'int32'), ([3], 'normal')])
case('add/f32f64', 'add', [([3], 'normal'), ([3], 'normal', 'float64')])
case('addScalar/float', 'addScalar', [([3, 4], 'normal')], s=2.5)
case('addScalar/int-float', 'addScalar', [([4], 'int:0:9', 'int32')], s=0.5)
case('rsubScalar', 'rsubScalar', [([3, 4], 'normal')], s=1)
case('mulScalar', 'mulScalar', [([5], 'normal', 'float64')], s=-3)
case('rdivScalar', 'rdivScalar', [([3, 4], 'pos')], s=2)
case('powScalar/cube', 'powScalar', [([3, 4], 'normal')], s=3)
case('powScalar/half', 'powScalar', [([3, 4], 'pos')], s=0.5)
case('powScalar/zero', 'powScalar', [([4], 'zeros_some')], s=2)
case('rpowScalar', 'rpowScalar', [([3, 4], 'normal')], s=2.0)
for op in ['eq', 'ne', 'lt', 'le', 'gt', 'ge']:
    case(op + '/int', op, [([3, 4], 'int:0:3', 'int32'), ([4], 'int:0:3', 'int32')])
    case(op + '/float', op, [([3, 4], 'zeros_some'), ([3, 1], 'zeros_some')])
case('where/same', 'where', [([3, 4], 'bool', 'bool'), ([3, 4], 'normal'), ([3, 4], 'normal')])
case('where/bcast', 'where', [([3, 1], 'bool', 'bool'), ([4], 'normal'), ([3, 4], 'normal')])

# ---- reductions
for op, dist in [('sum', 'normal'), ('mean', 'normal'), ('max', 'distinct'), ('min', 'distinct'), ('prod', 'pos')]:
    case(op + '/all', op, [([3, 4], dist)])
    case(op + '/dim1', op, [([3, 4], dist)], dim=1)
    case(op + '/dims', op, [([2, 3, 4], dist)], dim=[0, 2])
    case(op + '/keep', op, [([2, 3, 4], dist)], dim=1, keepdim=True)
    case(op + '/neg', op, [([2, 3, 4], dist, 'float64')], dim=-1)
case('sum/int', 'sum', [([3, 4], 'int:0:9', 'int32')], dim=0)
case('prod/zeros', 'prod', [([3, 4], 'zeros_some')], dim=1)
# torch 1.13's prod backward returns constant zeros when a slice has two or more zeros, so its
# second derivative there is 0 although d2(prod)/dx_i dx_j = prod of the others; ours is exact.
case('prod/zerosall', 'prod', [([6], 'zeros_some', 'float64')], torch_second_order=False)
case('var/all', 'var', [([3, 4], 'normal')])
case('var/dim', 'var', [([3, 4], 'normal')], dim=1)
case('var/biased', 'var', [([2, 3, 4], 'normal')], dim=[0, 2], unbiased=False, keepdim=True)
case('std/all', 'std', [([3, 4], 'normal')])
case('std/dim', 'std', [([3, 4], 'normal', 'float64')], dim=0, unbiased=False)
case('logsumexp/dim', 'logsumexp', [([3, 4], 'normal')], dim=1)
case('logsumexp/dims', 'logsumexp', [([2, 3, 4], 'normal')], dim=[0, 2], keepdim=True)
case('logsumexp/large', 'logsumexp', [([3, 4], 'large', 'float64')], gradcheck=False, dim=1)
case('argmax/all', 'argmax', [([3, 4], 'distinct')])
case('argmax/dim', 'argmax', [([3, 4], 'distinct')], dim=1)
case('argmin/keep', 'argmin', [([2, 3, 4], 'distinct')], dim=0, keepdim=True)

# ---- linear algebra
for tag, sa, sb in [('2d', [3, 4], [4, 5]), ('dot', [4], [4]), ('vecmat', [4], [4, 3]), ('matvec', [3, 4], [4]),
                    ('batch', [2, 3, 4], [2, 4, 5]), ('bcast', [2, 1, 3, 4], [3, 4, 5]), ('3d2d', [2, 3, 4], [4, 2]),
                    ('1x1', [1, 1], [1, 1]), ('odd', [7, 9], [9, 5]), ('batchvec', [2, 3, 4], [4])]:
    case('matmul/' + tag, 'matmul', [(sa, 'normal'), (sb, 'normal')])
case('matmul/f64', 'matmul', [([3, 4], 'normal', 'float64'), ([4, 2], 'normal', 'float64')])
case('mT', 'mT', [([2, 3, 4], 'normal')])
case('outer', 'outer', [([3], 'normal'), ([4], 'normal')])

# ---- shape
case('reshape/infer', 'reshape', [([2, 3, 4], 'normal')], shape=[4, -1])
case('reshape/scalar', 'reshape', [([1, 1], 'normal')], shape=[])
case('flatten/all', 'flatten', [([2, 3, 4], 'normal')])
case('flatten/mid', 'flatten', [([2, 3, 4, 5], 'normal')], start=1, end=2)
case('squeeze/all', 'squeeze', [([1, 3, 1, 2], 'normal')])
case('squeeze/dim', 'squeeze', [([1, 3, 1, 2], 'normal')], dim=2)
case('unsqueeze/neg', 'unsqueeze', [([3, 2], 'normal')], dim=-1)
case('expand/basic', 'expand', [([3, 1], 'normal')], shape=[2, 3, 4])
case('expand/keep', 'expand', [([3, 1], 'normal')], shape=[-1, 5])
case('permute', 'permute', [([2, 3, 4], 'normal')], dims=[2, 0, 1])
case('transpose', 'transpose', [([2, 3, 4], 'normal')], d0=0, d1=-1)
case('getitem/int', 'getitem', [([3, 4, 5], 'normal')], items=[1])
case('getitem/negint', 'getitem', [([3, 4, 5], 'normal')], items=[-1, 2])
case('getitem/slices', 'getitem', [([5, 6], 'normal')], items=['1:4', '::2'])
case('getitem/negslice', 'getitem', [([5, 6], 'normal')], items=['-3:', '1:-1:2'])
case('getitem/newaxis', 'getitem', [([3, 4], 'normal')], items=[None, ':', 1, None])
case('getitem/ellipsis', 'getitem', [([2, 3, 4], 'normal')], items=['...', '1:3'])
case('getitemNegStep', 'getitemNegStep', [([6, 3], 'normal')], dim=0, start=-1, stop=0, step=-2)
case('getitemTensor/dim0', 'getitemTensor', [([5, 3], 'normal'), ([4], 'int:0:5', 'int32')], dim=0)
case('getitemTensor/dim1', 'getitemTensor', [([2, 5], 'normal'), ([2, 2], 'int:0:5', 'int32')], dim=1)
case('cat/dim0', 'cat', [([2, 3], 'normal'), ([4, 3], 'normal')], dim=0)
case('cat/dim1three', 'cat', [([2, 1], 'normal'), ([2, 3], 'normal'), ([2, 2], 'normal')], dim=1)
case('cat/mixed', 'cat', [([2, 3], 'normal'), ([1, 3], 'normal', 'float64')], dim=0)
case('stack/dim0', 'stack', [([2, 3], 'normal'), ([2, 3], 'normal')], dim=0)
case('stack/last', 'stack', [([2, 3], 'normal'), ([2, 3], 'normal'), ([2, 3], 'normal')], dim=-1)
case('split/int', 'split', [([7, 2], 'normal')], sizes=3, dim=0, take=2)
case('split/list', 'split', [([2, 6], 'normal')], sizes=[1, 2, 3], dim=1, take=1)
case('chunk', 'chunk', [([2, 7], 'normal')], chunks=3, dim=1, take=1)
case('narrow', 'narrow', [([4, 5], 'normal')], dim=1, start=1, length=3)
case('flip/one', 'flip', [([3, 4], 'normal')], dims=[0])
case('flip/two', 'flip', [([2, 3, 4], 'normal')], dims=[0, 2])
case('pad/last', 'pad', [([2, 3], 'normal')], pad=[1, 2])
case('pad/two', 'pad', [([2, 3, 4], 'normal')], pad=[1, 0, 2, 1], value=0.5)
case('pad/crop', 'pad', [([3, 5], 'normal')], pad=[-1, 2])
case('dilate', 'dilate', [([2, 3], 'normal')], axes=[0, 1], d=1)
case('dilate/one', 'dilate', [([2, 3, 2], 'normal')], axes=[2], d=2)
case('undilate', 'undilate', [([4, 6], 'normal')], axes=[0, 1], d=1)
case('gather/dim1', 'gather', [([3, 4], 'normal'), ([3, 5], 'int:0:4', 'int32')], dim=1)
case('gather/dim0', 'gather', [([3, 4], 'normal'), ([2, 4], 'int:0:3', 'int32')], dim=0)
case('scatterAdd', 'scatterAdd', [([3, 4], 'normal'), ([3, 6], 'int:0:4', 'int32'), ([3, 6], 'normal')], dim=1)
case('indexSelect/dim0', 'indexSelect', [([5, 3], 'normal'), ([4], 'int:0:5', 'int32')], dim=0)
case('indexSelect/dim1', 'indexSelect', [([2, 5], 'normal'), ([6], 'int:0:5', 'int32')], dim=1)
case('oneHot', 'oneHot', [([5], 'int:0:4', 'int32')], n=4)
case('maskedFill', 'maskedFill', [([3, 4], 'normal'), ([4], 'bool', 'bool')], value=-1.5)
case('tril', 'tril', [([4, 5], 'normal')])
case('tril/k', 'tril', [([2, 4, 4], 'normal')], k=-1)
case('triu', 'triu', [([4, 5], 'normal')], k=1)

CASES = C
