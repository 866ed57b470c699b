/** needle-ts side of tools/module_cases/basic.py. */
import * as nd from '../../src/index.js';
import type { ModuleTable } from './harness.js';

export const BASIC: ModuleTable = {
  Linear: { build: (a, dtype) => new nd.nn.Linear(a.in, a.out, { bias: a.bias ?? true, dtype }) },
  Identity: { build: () => new nd.nn.Identity() },
  MLP: { build: (a, dtype) => new nd.nn.Sequential(new nd.nn.Linear(a.in, a.hidden, { dtype }), new nd.nn.Linear(a.hidden, a.out, { dtype })) },
};
