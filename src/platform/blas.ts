/**
 * The system BLAS through koffi (Node only). Filled in by the BLAS work; until then: none.
 */
import type { Blas } from '../ndarray/wasm/runtime.js';

/** Loads a BLAS (NEEDLE_BLAS=path, or standard paths); `blas` null with the reason in `note`. */
export async function loadBlas(): Promise<{ blas: Blas | null; note: string }> {
  return { blas: null, note: 'no BLAS (not implemented yet)' };
}
