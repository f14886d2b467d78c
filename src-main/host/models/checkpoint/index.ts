/** Reading diffusers checkpoints (safetensors, PyTorch .bin, sharded sets) one tensor at a time. */
export { openFileSource, type ByteSource } from './byte-source.ts';
export { findComponentWeights, openCheckpoint } from './open.ts';
export { SafetensorsReader } from './safetensors.ts';
export { ShardedCheckpoint } from './sharded.ts';
export { TorchBinReader } from './torch-bin.ts';
export { CheckpointError, DTYPE_BYTES, elementCount, type CheckpointReader, type Dtype, type TensorInfo } from './types.ts';
