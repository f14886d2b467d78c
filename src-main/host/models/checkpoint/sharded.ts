/**
 * A checkpoint split over several files, as diffusers and transformers save large models: an index
 * (`*.safetensors.index.json`, `pytorch_model.bin.index.json`) whose `weight_map` names each tensor's shard.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../../contract/errors.ts';
import { CheckpointError, type CheckpointReader, type TensorInfo } from './types.ts';

/** Opens one shard file (safetensors or .bin); injected so that this module does not import the chooser. */
export type OpenShard = (path: string) => Promise<CheckpointReader>;

/** Several shard files read as one checkpoint. */
export class ShardedCheckpoint implements CheckpointReader {
  private readonly owner = new Map<string, CheckpointReader>();
  private readonly list: TensorInfo[] = [];

  private constructor(
    /** The index file's path. */
    readonly indexPath: string,
    private readonly shards: CheckpointReader[],
  ) {
    for (const shard of shards) {
      for (const t of shard.tensors()) {
        this.owner.set(t.name, shard);
        this.list.push(t);
      }
    }
  }

  /**
   * Reads the index at `indexPath`, opens every shard it names (paths relative to the index) and checks that each
   * mapped tensor is in its shard and no tensor is in two shards. Closes what it opened on failure.
   */
  static async open(indexPath: string, openShard: OpenShard): Promise<ShardedCheckpoint> {
    let weightMap: Record<string, string>;
    try {
      const json: unknown = JSON.parse(await readFile(indexPath, 'utf8'));
      const map = json !== null && typeof json === 'object' ? (json as { weight_map?: unknown }).weight_map : undefined;
      if (map === null || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((v) => typeof v === 'string')) {
        throw new Error('it has no weight_map of tensor name → shard file');
      }
      weightMap = map as Record<string, string>;
    } catch (e) {
      const code = (e as { code?: unknown }).code === 'ENOENT' ? 'not-found' : 'corrupt';
      throw new CheckpointError(code, `Could not read the shard index '${indexPath}': ${errorMessage(e)}. Download or copy it again.`, { cause: e });
    }

    const dir = dirname(indexPath);
    const files = [...new Set(Object.values(weightMap))];
    const shards: CheckpointReader[] = [];
    try {
      for (const file of files) {
        if (file.includes('/') || file.includes('\\') || file === '..' || file === '.') {
          throw new CheckpointError('corrupt', `The shard index '${indexPath}' names shard ${JSON.stringify(file)}, which is not a file beside it. The index is damaged or hostile.`);
        }
        shards.push(await openShard(join(dir, file)));
      }
      const namesByFile = new Map(files.map((f, i) => [f, new Set(shards[i].tensors().map((t) => t.name))]));
      const seen = new Map<string, string>();
      for (const [i, shard] of shards.entries()) {
        for (const t of shard.tensors()) {
          const other = seen.get(t.name);
          if (other !== undefined) {
            throw new CheckpointError('corrupt', `Tensor '${t.name}' is in two shards of '${indexPath}': '${other}' and '${files[i]}'. The checkpoint is inconsistent: download it again.`);
          }
          seen.set(t.name, files[i]);
        }
      }
      for (const [name, file] of Object.entries(weightMap)) {
        if (!namesByFile.get(file)?.has(name)) {
          throw new CheckpointError('corrupt', `The shard index '${indexPath}' puts tensor '${name}' in '${file}', but that shard does not hold it. Download the checkpoint again.`);
        }
      }
      return new ShardedCheckpoint(indexPath, shards);
    } catch (e) {
      await Promise.allSettled(shards.map((s) => s.close()));
      throw e;
    }
  }

  tensors(): TensorInfo[] {
    return this.list.map((t) => ({ ...t, shape: [...t.shape] }));
  }

  async read(name: string): Promise<Float32Array> {
    return await this.shard(name).read(name);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return await this.shard(name).readBytes(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }

  private shard(name: string): CheckpointReader {
    const shard = this.owner.get(name);
    if (!shard) throw new CheckpointError('not-found', `No shard of '${this.indexPath}' holds tensor '${name}' (${this.list.length} tensors in ${this.shards.length} shards). Check the tensor name.`);
    return shard;
  }
}
