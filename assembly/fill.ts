// fill: out[i] = value for `n` elements (threads split the range).
import { partStart } from './common';

export function fill_f32(out: usize, n: i32, value: f32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const v = f32x4.splat(value);
  let i = s;
  for (; i + 4 <= e; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < e; i++) store<f32>(out + (<usize>i << 2), value);
}

export function fill_f64(out: usize, n: i32, value: f64, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const v = f64x2.splat(value);
  let i = s;
  for (; i + 2 <= e; i += 2) v128.store(out + (<usize>i << 3), v);
  for (; i < e; i++) store<f64>(out + (<usize>i << 3), value);
}

export function fill_i32(out: usize, n: i32, value: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 16);
  const e = partStart(n, task + 1, ntasks, 16);
  const v = i32x4.splat(value);
  let i = s;
  for (; i + 4 <= e; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < e; i++) store<i32>(out + (<usize>i << 2), value);
}

export function fill_u8(out: usize, n: i32, value: i32, task: i32, ntasks: i32): void {
  const s = partStart(n, task, ntasks, 64);
  const e = partStart(n, task + 1, ntasks, 64);
  memory.fill(out + <usize>s, <u8>value, <usize>(e - s));
}
