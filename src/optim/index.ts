/**
 * The `nd.optim` namespace: optimizers (built from the general transforms in `nd.optim.transforms`),
 * learning-rate schedulers and gradient clipping. See docs/optim.md.
 */
export { Optimizer, toCamel, withDefaults, nonNegative, unitInterval, allOf } from './optimizer.js';
export type {
  BaseHyper,
  SchedulerGroupKeys,
  ParamGroup,
  ParamGroupSpec,
  Params,
  ParamState,
  UpdateContext,
  Transform,
  FusedUpdate,
  GroupCheck,
  OptimizerStateDict,
} from './optimizer.js';
export * as transforms from './transforms.js';
export { SGD, Adam, AdamW, RMSprop, Adagrad } from './optimizers.js';
export type { SGDHyper, SGDOptions, AdamHyper, AdamOptions, RMSpropHyper, RMSpropOptions, AdagradHyper, AdagradOptions } from './optimizers.js';
export * from './schedulers.js';
export type { AnyOptimizer, Scheduler, SchedulerStateDict, SchedulerOptions, LrLambda } from './lr_scheduler.js';
export type { OneCycleOptions } from './one_cycle.js';
export type { PlateauOptions } from './plateau.js';
export { clipGradNorm_, clipGradValue_ } from './clip.js';
/** PyTorch's namespace for the schedulers (`nd.optim.lrScheduler.StepLR`, as torch.optim.lr_scheduler). */
export * as lrScheduler from './schedulers.js';
