/** Op tables of further fixture modules (tools/cases/<module>.py -> test/parity/<module>_ops.ts). */
import type { OpTable } from './harness.js';

export const TABLES: Record<string, OpTable> = {};
