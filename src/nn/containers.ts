/** Containers: Sequential, ModuleList, ModuleDict (children under '0', '1', ... or names). */
import { Module } from './module.js';
import type { Tensor } from '../autograd/tensor.js';
import { rangeError, typeError } from '../errors.js';

function checkModule(op: string, m: unknown, i: number | string): Module {
  if (!(m instanceof Module)) throw typeError(op, `a Module at ${i}`, m === null ? 'null' : typeof m);
  return m;
}

/** Shared base of Sequential and ModuleList: children registered under '0', '1', ... */
abstract class IndexedModules extends Module {
  [index: number]: Module;
  private _length = 0;

  constructor(private readonly kind: string, modules: readonly Module[]) {
    super();
    modules.forEach((m) => this.append(m));
  }

  /** Adds a module at the end. */
  append(m: Module): this {
    this[this._length] = checkModule(this.kind, m, this._length);
    this._length++;
    return this;
  }

  get length(): number {
    return this._length;
  }

  /** The i-th child (negative indices count from the end). */
  at(i: number): Module {
    const j = i < 0 ? i + this._length : i;
    if (!Number.isInteger(j) || j < 0 || j >= this._length) {
      throw rangeError(this.kind, `an index in [${-this._length}, ${this._length - 1}]`, String(i));
    }
    return this[j]!;
  }

  [Symbol.iterator](): Iterator<Module> {
    let i = 0;
    return { next: () => (i < this._length ? { value: this[i++]!, done: false } : { value: undefined, done: true }) };
  }
}

/** Runs its children in order, feeding each output to the next. */
export class Sequential extends IndexedModules {
  constructor(...modules: Module[]) {
    super('Sequential', modules);
  }

  /** Feeds `x` through every child in order (typed for the usual tensor-in, tensor-out case). */
  forward(x: Tensor): Tensor {
    let y: unknown = x;
    for (const m of this) y = (m.forward as (a: unknown) => unknown).call(m, y);
    return y as Tensor;
  }
}

/** A list of modules whose parameters are registered (no forward of its own). */
export class ModuleList extends IndexedModules {
  constructor(modules: Module[] = []) {
    super('ModuleList', modules);
  }

  forward(): never {
    throw typeError('ModuleList', 'a container to iterate, not to call', 'forward()');
  }
}

/** A dictionary of named modules whose parameters are registered. */
export class ModuleDict extends Module {
  [name: string]: unknown;

  constructor(modules: Record<string, Module> = {}) {
    super();
    for (const [k, m] of Object.entries(modules)) this.set(k, m);
  }

  set(name: string, m: Module): this {
    if (name in Module.prototype || name === 'training') throw rangeError('ModuleDict', 'a key that is not a Module member', JSON.stringify(name));
    this[name] = checkModule('ModuleDict', m, name);
    return this;
  }

  get(name: string): Module | undefined {
    const v = this[name];
    return v instanceof Module ? v : undefined;
  }

  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }

  forward(): never {
    throw typeError('ModuleDict', 'a container to index, not to call', 'forward()');
  }
}
