/**
 * Tensor.dispose() and `using`: the memory goes back at once (wasm: the block is reused), every
 * tensor sharing the storage becomes unusable with a clear DeviceError, a second dispose is a
 * no-op, and gradients are separate tensors. Runs on the default device and on cpu.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { DeviceError } from '../src/errors.js';
import { WasmStorage } from '../src/ndarray/wasm/heap.js';
import { assertThrows } from './helpers.js';

const FREED = /expected a live tensor, got one whose memory was freed by dispose\(\) \(6 x float32\)/;

for (const device of [...new Set([nd.getDefaultDevice(), 'cpu'])]) {
  describe(`dispose on ${device}`, () => {
    test('using the tensor or a view of it afterwards throws; a second dispose does nothing', () => {
      const t = nd.tensor([[0, 1, 2], [3, 4, 5]], { device });
      const view = t.transpose(0, 1);
      const detached = t.detach();
      assert.deepEqual(Array.from(view.dataSync()), [0, 3, 1, 4, 2, 5]);
      t.dispose();
      assertThrows(() => t.dataSync(), DeviceError, FREED);
      assertThrows(() => view.dataSync(), DeviceError, FREED);
      assertThrows(() => nd.add(detached, 1), DeviceError, FREED);
      t.dispose();
      view.dispose();
      // shape and dtype stay readable
      assert.deepEqual(t.shape, [2, 3]);
      assert.equal(t.dtype, 'float32');
    });

    test('other tensors are untouched, gradients are separate tensors', () => {
      const w = nd.tensor([1, 2, 3], { device, requiresGrad: true });
      const other = nd.tensor([4, 5, 6], { device });
      const loss = nd.sum(nd.mul(w, other));
      loss.backward();
      loss.dispose();
      assert.deepEqual(Array.from(w.grad!.dataSync()), [4, 5, 6]);
      w.grad!.dispose();
      assert.deepEqual(Array.from(w.dataSync()), [1, 2, 3]);
      assert.deepEqual(Array.from(other.dataSync()), [4, 5, 6]);
    });

    test('`using` disposes at the end of the block', () => {
      let kept: nd.Tensor;
      {
        using t = nd.full([6], 2, { device });
        kept = t;
        assert.equal(nd.sum(t).item(), 12);
      }
      assertThrows(() => kept.dataSync(), DeviceError, FREED);
    });
  });
}

test('wasm: a disposed block is reused by the next allocation of its size', { skip: !nd.listDevices().includes('wasm') && 'no wasm backend' }, () => {
  const a = nd.zeros([1000], { device: 'wasm' });
  const ptr = (a.array.storage as WasmStorage).ptr;
  a.dispose();
  const b = nd.zeros([1000], { device: 'wasm' });
  assert.equal((b.array.storage as WasmStorage).ptr, ptr);
  assert.deepEqual(Array.from(b.dataSync()).slice(0, 3), [0, 0, 0]);
  // the disposed tensor's old storage does not reach the new owner's memory
  assertThrows(() => a.dataSync(), DeviceError, /freed by dispose\(\) \(1000 x float32\)/);
});
