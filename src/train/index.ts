/**
 * `nd.train`: a small trainer layer (not a framework). trainEpoch / evaluate run one pass; fit
 * adds epochs, callbacks, early stopping, clipping, scheduling, a progress bar, a JSONL log, an
 * SVG plot and checkpoints with resume; predict / classify / generate run inference. See
 * docs/train.md. Browser-safe: file output (fit's outDir) imports node:fs lazily.
 */
export { trainEpoch, evaluate, defaultForward, callLoss } from './loop.js';
export type {
  Batch,
  Batches,
  TrainableModel,
  LossLike,
  OptimizerLike,
  StepScheduler,
  ForwardFn,
  BatchInfo,
  BatchHook,
  MetricsOption,
  PassOptions,
  TrainEpochOptions,
  EvaluateOptions,
  PassResult,
  TrainEpochResult,
} from './loop.js';
export { fit, formatEpochLog } from './fit.js';
export type { FitOptions, SchedulerLike } from './fit.js';
export { EarlyStopping, LambdaCallback, defaultMode } from './callbacks.js';
export type { Callback, EpochLog, FitContext, FitResult, EarlyStoppingOptions } from './callbacks.js';
export { accuracy, correctCount, perplexity, RunningMean, Throughput } from './metrics.js';
export type { MetricName } from './metrics.js';
export { ProgressBar, defaultStream, formatDuration, formatNumber, formatValues } from './progress.js';
export type { OutputStream, ProgressBarOptions, ProgressValues } from './progress.js';
export { plotHistory, niceTicks } from './plot.js';
export type { PlotOptions, CurvePoint } from './plot.js';
export { predict, classify, sampleLogits, generate } from './inference.js';
export type { InferenceModel, PredictOptions, Classification, SampleOptions, GenerateOptions } from './inference.js';
