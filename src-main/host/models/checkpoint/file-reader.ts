/**
 * What every single-file checkpoint reader shares: the tensor list, lookup by name (closed and unknown names refused
 * with the file and the nearest names), reading one tensor's bytes as float32 or raw, and closing the file. A format
 * adds its own check of a tensor before it is read (`checkReadable`: torch's non-contiguous views).
 */
import type { ByteSource } from './byte-source.ts';
import { readFloat32, readRaw } from './to-float32.ts';
import { CheckpointError, type CheckpointReader, type TensorInfo } from './types.ts';

/** A checkpoint file opened for streaming, one tensor at a time. */
export abstract class FileCheckpointReader implements CheckpointReader {
  private readonly byName: Map<string, TensorInfo>;
  private closed = false;

  protected constructor(
    protected readonly source: ByteSource,
    protected readonly list: TensorInfo[],
  ) {
    this.byName = new Map(list.map((t) => [t.name, t]));
  }

  tensors(): TensorInfo[] {
    return this.list.map((t) => ({ ...t, shape: [...t.shape] }));
  }

  async read(name: string): Promise<Float32Array> {
    return await readFloat32(this.source, this.info(name));
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return await readRaw(this.source, this.info(name));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close();
  }

  /** Refuses a tensor this format cannot read as stored (the default reads every listed tensor). */
  protected checkReadable(_info: TensorInfo): void {}

  private info(name: string): TensorInfo {
    if (this.closed) throw new CheckpointError('internal', `'${this.source.path}' is closed; open it again to read '${name}'.`);
    const info = this.byName.get(name);
    if (!info) {
      throw new CheckpointError('not-found', `'${this.source.path}' has no tensor '${name}' (it has ${this.list.length} tensors${nearby(name, this.list)}). Check the tensor name and the file.`);
    }
    this.checkReadable(info);
    return info;
  }
}

/** Up to three tensor names that share the asked name's first segment, as a hint. */
export function nearby(name: string, list: readonly { name: string }[]): string {
  const head = name.split('.')[0];
  const similar = list.filter((t) => t.name.split('.')[0] === head).slice(0, 3).map((t) => `'${t.name}'`);
  return similar.length === 0 ? '' : `, e.g. ${similar.join(', ')}`;
}
