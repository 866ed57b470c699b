#!/usr/bin/python3
"""Writes the safetensors fixtures of test/io.test.ts (PyTorch reference files and outputs).

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_safetensors_fixtures.py

The safetensors package is not needed: the format is written by hand below, the way the
reference writer does it (8-byte little-endian header length, JSON header padded with spaces to
a multiple of 8 bytes, tensors sorted by dtype (larger first) then name, packed back to back).

Outputs in test/fixtures/:
  torch_model.safetensors / torch_model.json    seeded MLP (Linear/ReLU/Tanh): state dict with
                                                metadata {"format": "pt"}; the JSON holds the
                                                state values, a fixed input and torch's output
  torch_convbn.safetensors / torch_convbn.json  seeded Conv2d + BatchNorm2d + ReLU + Flatten +
                                                Linear after three training-mode forwards (so
                                                running stats and num_batches_tracked (int64)
                                                are non-trivial); eval-mode output
  torch_dtypes.safetensors / torch_dtypes.json  one tensor per readable dtype (F16, BF16, I64,
                                                I16, I8, U8, BOOL, F64, F32, I32) with edge values
                                                and their exact values as JSON
"""
import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, '..', 'test', 'fixtures')

# Reference dtype order (the Rust enum); the writer sorts by it, descending, then by name.
DTYPE_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64']
TORCH_DTYPES = {
    torch.bool: 'BOOL', torch.uint8: 'U8', torch.int8: 'I8', torch.int16: 'I16', torch.float16: 'F16',
    torch.bfloat16: 'BF16', torch.int32: 'I32', torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64',
}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    if t.dtype == torch.bool:
        return t.to(torch.uint8).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    assert sys.byteorder == 'little'
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_ORDER.index(TORCH_DTYPES[kv[1].dtype]), kv[0]))
    header = {}
    if metadata is not None:
        header['__metadata__'] = metadata
    blobs = []
    pos = 0
    for name, t in items:
        b = tensor_bytes(t)
        header[name] = {'dtype': TORCH_DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    js = json.dumps(header, separators=(',', ':')).encode('utf-8')
    js += b' ' * ((8 - len(js) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(js)))
        f.write(js)
        for b in blobs:
            f.write(b)
    size = os.path.getsize(path)
    assert size < 200_000, f'{path} is {size} bytes'
    print(f'wrote {os.path.relpath(path)} ({size} bytes, {len(items)} tensors)')


def num(x):
    """A float as JSON: exact (Python's repr round-trips doubles), specials as strings."""
    x = float(x)
    if math.isnan(x):
        return 'nan'
    if math.isinf(x):
        return 'inf' if x > 0 else '-inf'
    return x


def values(t):
    t = t.detach().cpu()
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.to(torch.float32)  # exact
    if t.dtype == torch.bool:
        return [1 if v else 0 for v in t.reshape(-1).tolist()]
    return [num(v) if isinstance(v, float) else v for v in t.reshape(-1).tolist()]


def dump_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)')


def state_json(sd):
    return {k: {'dtype': str(v.dtype).replace('torch.', ''), 'shape': list(v.shape), 'values': values(v)} for k, v in sd.items()}


def mlp():
    torch.manual_seed(1234)
    model = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3),
    )
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(99))
    with torch.no_grad():
        y = model(x)
    sd = model.state_dict()
    write_safetensors(os.path.join(OUT_DIR, 'torch_model.safetensors'), dict(sd), {'format': 'pt'})
    dump_json(os.path.join(OUT_DIR, 'torch_model.json'), {
        'arch': 'Sequential(Linear(6, 8), ReLU(), Linear(8, 8), Tanh(), Linear(8, 3))',
        'state': state_json(sd),
        'input_shape': list(x.shape), 'input': values(x),
        'output_shape': list(y.shape), 'output': values(y),
    })


def convbn():
    torch.manual_seed(4321)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 2),
    )
    g = torch.Generator().manual_seed(7)
    model.train()
    with torch.no_grad():
        for _ in range(3):  # updates running stats; num_batches_tracked becomes 3
            model(torch.randn(4, 2, 4, 4, generator=g) * 2 + 0.5)
    model.eval()
    x = torch.randn(2, 2, 4, 4, generator=g)
    with torch.no_grad():
        y = model(x)
    sd = model.state_dict()
    assert sd['1.num_batches_tracked'].dtype == torch.int64
    write_safetensors(os.path.join(OUT_DIR, 'torch_convbn.safetensors'), dict(sd), {'format': 'pt'})
    dump_json(os.path.join(OUT_DIR, 'torch_convbn.json'), {
        'arch': 'Sequential(Conv2d(2, 3, 3, padding=1), BatchNorm2d(3), ReLU(), Flatten(), Linear(48, 2)) in eval mode',
        'state': state_json(sd),
        'input_shape': list(x.shape), 'input': values(x),
        'output_shape': list(y.shape), 'output': values(y),
    })


def dtypes():
    g = torch.Generator().manual_seed(5)
    specials = [0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-05, 5.96e-08, 1e-7, float('inf'), float('-inf'), float('nan'), 0.333]
    t = {
        'f16': torch.tensor(specials, dtype=torch.float16).reshape(3, 4),
        'f16_rand': torch.randn(2, 3, 5, generator=g).to(torch.float16),
        'bf16': torch.tensor(specials + [3.0e38, 1e-40], dtype=torch.bfloat16),
        'bf16_rand': torch.randn(4, 4, generator=g).to(torch.bfloat16),
        'i64': torch.tensor([0, 1, -1, 2147483647, -2147483648, 12345], dtype=torch.int64),
        'num_batches_tracked': torch.tensor(3, dtype=torch.int64),
        'i16': torch.tensor([-32768, -1, 0, 32767], dtype=torch.int16),
        'i8': torch.tensor([[-128, -1], [0, 127]], dtype=torch.int8),
        'u8': torch.tensor([0, 1, 128, 255], dtype=torch.uint8),
        'bool': torch.tensor([[True, False, True]], dtype=torch.bool),
        'f64': torch.tensor([math.pi, -1e300, 5e-324, 0.1], dtype=torch.float64),
        'f32': torch.randn(3, 2, generator=g),
        'i32': torch.tensor([-7, 0, 2147483647], dtype=torch.int32),
        'empty': torch.zeros(0, 3),
        'scalar': torch.tensor(2.75),
    }
    write_safetensors(os.path.join(OUT_DIR, 'torch_dtypes.safetensors'), t, {'source': 'torch ' + torch.__version__})
    dump_json(os.path.join(OUT_DIR, 'torch_dtypes.json'), state_json(t))


if __name__ == '__main__':
    os.makedirs(OUT_DIR, exist_ok=True)
    mlp()
    convbn()
    dtypes()
