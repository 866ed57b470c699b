/** Module tables per fixture area (tools/module_cases/<area>.py -> test/module_parity/<area>.ts). */
import type { ModuleTable } from './harness.js';
import { BASIC } from './basic.js';
import { ATTENTION } from './attention.js';
import { RECURRENT } from './recurrent.js';
import { LAYERS } from './layers.js';
import { LOSSES } from './losses.js';

export const MODULE_TABLES: Record<string, ModuleTable> = {
  losses: LOSSES,
  layers: LAYERS,
  basic: BASIC,
  attention: ATTENTION,
  recurrent: RECURRENT,
};
