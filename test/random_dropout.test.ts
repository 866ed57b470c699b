/** Seeded randomness (Philox known-answer vectors, reproducibility) and the dropout primitive. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nd from '../src/index.js';
import { philox4x32 } from '../src/random.js';
import { assertClose, assertThrows } from './helpers.js';

const hex = (a: number[]) => a.map((x) => x.toString(16).padStart(8, '0')).join(' ');

describe('Generator (Philox4x32-10)', () => {
  test('matches the Random123 known-answer vectors', () => {
    assert.equal(hex(philox4x32([0, 0, 0, 0], [0, 0])), '6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const f = 0xffffffff;
    assert.equal(hex(philox4x32([f, f, f, f], [f, f])), '408f276d 41c83b0e a20bc7c6 6d5451fd');
    assert.equal(
      hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  test('same seed, same numbers; different seeds differ', () => {
    const a = nd.randn([50], { generator: new nd.Generator(7) });
    const b = nd.randn([50], { generator: new nd.Generator(7) });
    const c = nd.randn([50], { generator: new nd.Generator(8) });
    assert.deepEqual(a.toArray(), b.toArray());
    assert.notDeepEqual(a.toArray(), c.toArray());
    nd.manualSeed(3);
    const d = nd.rand([10]);
    nd.manualSeed(3);
    assert.deepEqual(nd.rand([10]).toArray(), d.toArray());
  });

  test('state round-trips', () => {
    const g = new nd.Generator(11);
    nd.rand([3], { generator: g });
    const state = g.getState();
    const x = nd.rand([5], { generator: g });
    g.setState(state);
    assert.deepEqual(nd.rand([5], { generator: g }).toArray(), x.toArray());
  });

  test('uniform and normal moments', () => {
    const g = new nd.Generator(1);
    const u = nd.rand([20000], { generator: g, dtype: 'float64' });
    assert.ok(Math.abs(u.mean().item() - 0.5) < 0.01);
    assert.ok(u.min().item() >= 0 && u.max().item() < 1);
    const z = nd.randn([20000], { generator: g });
    assert.ok(Math.abs(z.mean().item()) < 0.03);
    assert.ok(Math.abs(z.std().item() - 1) < 0.03);
  });

  test('bad seeds are rejected', () => {
    assertThrows(() => nd.manualSeed(-1), RangeError, /^manualSeed: a non-negative integer seed, got -1$/);
    assertThrows(() => new nd.Generator(1.5), RangeError, /^manualSeed: /);
  });
});

describe('dropout', () => {
  test('identity when not training or p = 0', () => {
    const x = nd.randn([4, 5]);
    assert.equal(nd.dropout(x, 0.5, { training: false }), x);
    assert.equal(nd.dropout(x, 0), x);
  });

  test('drops about p and scales survivors by 1/(1-p)', () => {
    const x = nd.ones([100000]);
    const y = nd.dropout(x, 0.3, { generator: new nd.Generator(5) });
    const vals = y.dataSync();
    let zeros = 0;
    for (const v of vals) {
      if (v === 0) zeros++;
      else assert.ok(Math.abs(v - 1 / 0.7) < 1e-6);
    }
    assert.ok(Math.abs(zeros / vals.length - 0.3) < 0.01, `zero fraction ${zeros / vals.length}`);
  });

  test('the mask is seeded and its gradient is mask / (1-p)', () => {
    const x = nd.randn([6, 7]).requiresGrad_();
    const a = nd.dropout(x, 0.4, { generator: new nd.Generator(9) });
    const b = nd.dropout(x, 0.4, { generator: new nd.Generator(9) });
    assert.deepEqual(a.toArray(), b.toArray());
    a.sum().backward();
    const expected = nd.div(nd.cast(nd.ne(a, 0), 'float32'), 0.6);
    assertClose(x.grad!, expected);
  });

  test('p = 1 zeroes everything; bad p is an error', () => {
    assert.deepEqual(nd.dropout(nd.ones([3]), 1).toArray(), [0, 0, 0]);
    assertThrows(() => nd.dropout(nd.ones([3]), 1.5), RangeError, /^dropout: a probability p in \[0, 1\], got 1.5$/);
  });
});
