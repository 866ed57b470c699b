/** Every scheduler, for the `nd.optim.lrScheduler` namespace (PyTorch's torch.optim.lr_scheduler). */
export {
  LRScheduler,
  StepLR,
  MultiStepLR,
  ExponentialLR,
  CosineAnnealingLR,
  LinearLR,
  ConstantLR,
  PolynomialLR,
  LambdaLR,
  MultiplicativeLR,
} from './lr_scheduler.js';
export { OneCycleLR } from './one_cycle.js';
export { SequentialLR, ChainedScheduler } from './sequential.js';
export { ReduceLROnPlateau } from './plateau.js';
