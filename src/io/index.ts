/**
 * `nd` I/O: safetensors (browser-safe, in memory), file functions (Node; `node:fs` imported
 * lazily inside them, so bundling for a browser never pulls it in) and training checkpoints.
 */
export {
  serialize,
  deserialize,
  deserializeWithMetadata,
  parseHeader,
  saveToBuffer,
  loadFromArrayBuffer,
  MAX_HEADER_SIZE,
} from './safetensors.js';
export type {
  SafetensorsDType,
  SafetensorsHeader,
  SafetensorsContents,
  TensorInfo,
  TensorDict,
  DeserializeOptions,
  SaveOptions,
} from './safetensors.js';
export { save, load, loadWithMetadata, readHeader } from './node.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  checkpointToBytes,
  checkpointFromBytes,
  CHECKPOINT_FORMAT,
} from './checkpoint.js';
export type {
  CheckpointState,
  CheckpointTargets,
  CheckpointInfo,
  ModelLike,
  StatefulLike,
  GeneratorLike,
} from './checkpoint.js';
