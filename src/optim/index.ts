/** Optimizers and LR schedulers (being written). */
export {};
