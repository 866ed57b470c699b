/** Module tables per fixture area (tools/module_cases/<area>.py -> test/module_parity/<area>.ts). */
import type { ModuleTable } from './harness.js';
import { BASIC } from './basic.js';

export const MODULE_TABLES: Record<string, ModuleTable> = {
  basic: BASIC,
};
