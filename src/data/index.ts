/**
 * `nd.utils.data` (torch.utils.data): datasets, samplers, the DataLoader and collation.
 * Browser-safe: nothing here imports Node.
 */
export { Dataset, TensorDataset, Subset, ConcatDataset, TransformDataset, randomSplit } from './dataset.js';
export type { TransformLike, TransformDatasetOptions } from './dataset.js';
export { DataLoader } from './dataloader.js';
export type { DataLoaderOptions } from './dataloader.js';
export { defaultCollate } from './collate.js';
export type { Collated } from './collate.js';
export { SequentialSampler, RandomSampler, SubsetRandomSampler, BatchSampler } from './sampler.js';
export type { Sampler, RandomSamplerOptions } from './sampler.js';
