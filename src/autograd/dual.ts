/**
 * Forward-mode bookkeeping: each `jvp` call opens a level that maps tensors to their tangents.
 * Levels nest; while a level computes a tangent it is suspended, so tangent arithmetic does not
 * perturb itself (no perturbation confusion).
 */
import type { Tensor } from './tensor.js';

export class DualLevel {
  readonly tangents = new WeakMap<Tensor, Tensor>();
  active = true;
  /** Runs `fn` with this level switched off. */
  suspend<T>(fn: () => T): T {
    const prev = this.active;
    this.active = false;
    try {
      return fn();
    } finally {
      this.active = prev;
    }
  }
}

const stack: DualLevel[] = [];

export function activeLevels(): DualLevel[] {
  return stack.length === 0 ? stack : stack.filter((l) => l.active);
}

/** Runs `fn` inside a new dual level. */
export function withLevel<T>(fn: (level: DualLevel) => T): T {
  const level = new DualLevel();
  stack.push(level);
  try {
    return fn(level);
  } finally {
    stack.pop();
  }
}
