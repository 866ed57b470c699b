/** Op tables of further fixture modules (tools/cases/<module>.py -> test/parity/<module>_ops.ts). */
import type { OpTable } from './check.js';
import { NN_OPS } from './nn_ops.js';

export const TABLES: Record<string, OpTable> = {
  nn: NN_OPS,
};
