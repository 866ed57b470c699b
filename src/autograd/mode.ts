/** Gradient-recording mode (PyTorch's grad mode). */

let enabled = true;

/** True when ops record the graph for reverse mode. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with graph recording switched on or off, restoring the previous mode after. */
export function withGradMode<T>(on: boolean, fn: () => T): T {
  const prev = enabled;
  enabled = on;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs `fn` without recording the graph (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Runs `fn` with recording on, also inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  return withGradMode(true, fn);
}
