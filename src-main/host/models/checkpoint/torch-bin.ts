/**
 * PyTorch checkpoints (`pytorch_model.bin`, `diffusion_pytorch_model.bin`) in torch.save's zip format:
 * `<prefix>/data.pkl` (the state dict as a pickle, tensors as views of storages), `<prefix>/data/<key>` (each
 * storage's raw bytes), `<prefix>/byteorder` (absent before torch 1.10: little) and `<prefix>/version`. The pickle
 * runs through the restricted unpickler; then each tensor is a byte range of its storage record.
 */
import { openFileSource, readAt, type ByteSource } from './byte-source.ts';
import { PickleDict, TensorRef, unpickleStateDict, type PickleValue } from './pickle.ts';
import { FileCheckpointReader } from './file-reader.ts';
import { CheckpointError, DTYPE_BYTES, elementCount, formatShape, type TensorInfo } from './types.ts';
import { ZipDirectory, type ZipEntry } from './zip.ts';

/** A tensor whose storage view is not row-major contiguous: listed, but refused by `read`. */
interface Strided {
  shape: number[];
  stride: number[];
}

/** A PyTorch zip checkpoint opened for streaming. */
export class TorchBinReader extends FileCheckpointReader {
  private constructor(
    source: ByteSource,
    list: TensorInfo[],
    private readonly strided: ReadonlyMap<string, Strided>,
    /** The archive's `version` record (`3` for current torch), or undefined when absent. */
    readonly formatVersion: string | undefined,
  ) {
    super(source, list);
  }

  /** Opens `path`, reads its zip directory and unpickles its state dict (not the storages). */
  static async open(path: string): Promise<TorchBinReader> {
    return TorchBinReader.fromSource(await openFileSource(path));
  }

  /** The same from an opened source (tests pass a counting wrapper); closes it on failure. */
  static async fromSource(source: ByteSource): Promise<TorchBinReader> {
    try {
      const { list, strided, version } = await load(source);
      return new TorchBinReader(source, list, strided, version);
    } catch (e) {
      await source.close();
      throw e;
    }
  }

  /** Non-contiguous views are listed but not read. */
  protected override checkReadable(info: TensorInfo): void {
    const name = info.name;
    const strided = this.strided.get(name);
    if (strided) {
      throw new CheckpointError(
        'model-error',
        `Tensor '${name}' ${formatShape(strided.shape)} in '${this.source.path}' is a non-contiguous view (strides ${formatShape(strided.stride)}, ` +
          `row-major would be ${formatShape(contiguousStrides(strided.shape))}). Re-save the checkpoint with contiguous tensors (t.contiguous()), or as safetensors.`,
      );
    }
  }
}

interface Loaded {
  list: TensorInfo[];
  strided: Map<string, Strided>;
  version: string | undefined;
}

async function load(source: ByteSource): Promise<Loaded> {
  const path = source.path;
  const magic = await readAt(source, 0, Math.min(4, source.size));
  if (magic.length === 4 && magic[0] === 0x80 && magic[1] <= 5) {
    throw new CheckpointError(
      'model-error',
      `'${path}' is in PyTorch's legacy (pre-1.6) format, which this reader does not load. Re-save it with a current torch.save, or convert it to safetensors.`,
    );
  }
  if (!(magic[0] === 0x50 && magic[1] === 0x4b && magic[2] === 0x03 && magic[3] === 0x04)) {
    throw new CheckpointError('corrupt', `'${path}' is not a PyTorch zip checkpoint (it does not start with a zip header). Download or copy the file again.`);
  }
  const zip = await ZipDirectory.read(source);

  const pickles = [...zip.entries.values()].filter((e) => /^(?:[^/]+\/)?data\.pkl$/.test(e.name));
  if (pickles.length !== 1) {
    throw new CheckpointError('corrupt', `'${path}' has ${pickles.length} data.pkl records, expected one (in <name>/data.pkl). It is not a torch.save checkpoint, or it is damaged.`);
  }
  const pickleEntry = pickles[0];
  const prefix = pickleEntry.name.slice(0, -'data.pkl'.length);
  const text = async (entry: ZipEntry | undefined): Promise<string | undefined> =>
    entry && entry.size <= 64 ? new TextDecoder().decode(await zip.readEntry(entry)).trim() : undefined;

  const byteorder = await text(zip.entries.get(`${prefix}byteorder`));
  if (byteorder !== undefined && byteorder !== 'little') {
    throw new CheckpointError('model-error', `'${path}' was saved ${JSON.stringify(byteorder)}-endian; only little-endian checkpoints are read. Re-save it on a little-endian machine, or as safetensors.`);
  }
  const version = await text(zip.entries.get(`${prefix}version`) ?? zip.entries.get(`${prefix}.data/version`));

  const root = unpickleStateDict(await zip.readEntry(pickleEntry), path);
  if (!(root instanceof PickleDict)) {
    throw new CheckpointError('model-error', `'${path}' holds ${describe(root)}, not a state dict (a dict of tensors). Save model.state_dict(), not the model or a training checkpoint.`);
  }

  const list: TensorInfo[] = [];
  const strided = new Map<string, Strided>();
  const storageOffsets = new Map<string, number>();
  for (const [key, value] of root.entries) {
    if (!(value instanceof TensorRef)) continue;
    if (typeof key !== 'string') throw new CheckpointError('model-error', `'${path}' has a tensor under a ${describe(key)} key; state-dict keys are strings.`);
    const { storage } = value;
    const itemSize = DTYPE_BYTES[storage.dtype];
    const where = `Tensor '${key}' ${formatShape(value.shape)} in '${path}'`;

    let dataOffset = storageOffsets.get(storage.key);
    if (dataOffset === undefined) {
      const entry = zip.entries.get(`${prefix}data/${storage.key}`);
      if (!entry) throw new CheckpointError('corrupt', `${where} uses storage '${storage.key}', but the archive has no record ${prefix}data/${storage.key}. The file is damaged: download or copy it again.`);
      const expected = storage.numel * itemSize;
      if (entry.size !== expected) {
        throw new CheckpointError(
          'corrupt',
          `${where}: storage '${storage.key}' holds ${storage.numel} ${storage.dtype} elements (${expected} bytes), but its record has ${entry.size} bytes. The file is damaged: download or copy it again.`,
        );
      }
      dataOffset = await zip.dataOffset(entry);
      storageOffsets.set(storage.key, dataOffset);
    }

    if (value.shape.length !== value.stride.length) throw new CheckpointError('corrupt', `${where} has ${value.stride.length} strides for ${value.shape.length} dimensions. The file is damaged.`);
    const n = elementCount(value.shape);
    const extent = n === 0 ? 0 : 1 + value.shape.reduce((sum, d, i) => sum + (d - 1) * value.stride[i], 0);
    if (value.storageOffset + extent > storage.numel) {
      throw new CheckpointError(
        'corrupt',
        `${where} reaches element ${value.storageOffset + extent} of storage '${storage.key}', which has ${storage.numel}. The file is damaged: download or copy it again.`,
      );
    }
    if (!isContiguous(value.shape, value.stride)) strided.set(key, { shape: value.shape, stride: value.stride });
    list.push({ name: key, dtype: storage.dtype, shape: value.shape, offset: dataOffset + value.storageOffset * itemSize, byteLength: n * itemSize, file: path });
  }
  return { list, strided, version };
}

/** Row-major strides of `shape`. */
function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** As torch's is_contiguous: strides of size-1 dimensions do not matter, and an empty tensor is contiguous. */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  if (elementCount(shape) === 0) return true;
  const want = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || stride[i] === want[i]);
}

function describe(value: PickleValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return `a ${value.constructor.name}`;
  return `a ${typeof value}`;
}
