/**
 * A component's checkpoint as the graph builders read it: a synchronous {@link WeightSource} over tensors preloaded
 * one component at a time. The builders are synchronous and the readers are not, so every tensor the graph may need
 * is read first; each is handed over (and forgotten here) when the builder takes it, so the peak is about one
 * component's weights plus the graph being built from them, never the whole checkpoint.
 *
 * The source checks each tensor's shape against what the layer expects (size-1 axes aside, PyTorch's Linear stored
 * [out, in]), says which tensor is missing or mis-shaped in the words a user sees, and lists the tensors the graph
 * never took, so that a checkpoint of another layout is noticed even when nothing is missing.
 */
import { elementCount, FLOAT_DTYPES, formatShape, type CheckpointReader, type TensorInfo } from '../checkpoint/types.ts';
import type { WeightSource } from '../../../packs/graph/nn.ts';
import { ConvertError, throwIfCancelled } from './errors.ts';

/** Options of {@link loadComponentWeights}. */
export interface ComponentWeightsOptions {
  /** The component's folder name (`unet`, `text_encoder`): messages say which part of the model needs a tensor. */
  component: string;
  /** The checkpoint file, as messages show it. */
  file: string;
  /**
   * Tensors the graph never reads and that are not worth a warning (the VAE's encoder, CLAP's position-id
   * buffers): they are not loaded and not reported as unused.
   */
  ignore?: (key: string) => boolean;
  /** Checked before each tensor is read. */
  signal?: AbortSignal;
  /** Bytes of this component read so far, after each tensor. */
  onBytes?: (bytes: number) => void;
}

/** The tensors of `reader` that {@link loadComponentWeights} reads for these options, and their bytes. */
export function tensorsToLoad(reader: CheckpointReader, ignore?: (key: string) => boolean): { tensors: TensorInfo[]; bytes: number } {
  const tensors = reader.tensors().filter((t) => FLOAT_DTYPES.includes(t.dtype) && !ignore?.(t.name));
  return { tensors, bytes: tensors.reduce((sum, t) => sum + t.byteLength, 0) };
}

/** A component's weights in memory, served once each to the graph builder. */
export class ComponentWeights implements WeightSource {
  private readonly listed: Map<string, TensorInfo>;
  private readonly served = new Set<string>();

  constructor(
    private readonly loaded: Map<string, Float32Array>,
    listing: readonly TensorInfo[],
    private readonly options: Pick<ComponentWeightsOptions, 'component' | 'file' | 'ignore'>,
  ) {
    this.listed = new Map(listing.map((t) => [t.name, t]));
  }

  /** A source over tensors already in memory (tests, or tensors made by the caller), listed as F32. */
  static fromTensors(tensors: Iterable<readonly [string, { shape: number[]; data: Float32Array }]>, options: Pick<ComponentWeightsOptions, 'component' | 'file' | 'ignore'>): ComponentWeights {
    const loaded = new Map<string, Float32Array>();
    const listing: TensorInfo[] = [];
    for (const [name, t] of tensors) {
      loaded.set(name, t.data);
      listing.push({ name, dtype: 'F32', shape: [...t.shape], offset: 0, byteLength: t.data.byteLength, file: options.file });
    }
    return new ComponentWeights(loaded, listing, options);
  }

  /** Whether the checkpoint holds a tensor of this name (loaded or not): weight-norm folding asks before it reads. */
  has(key: string): boolean {
    return this.listed.has(key);
  }

  tensor(key: string, dims: readonly number[], options?: { transpose?: boolean }): Float32Array {
    const { component, file } = this.options;
    const expected = options?.transpose ? [dims[1], dims[0]] : [...dims];
    const info = this.listed.get(key);
    if (!info) {
      throw new ConvertError(
        'model-error',
        `checkpoint ${file} has no tensor '${key}' that ${component} needs (expected ${formatShape(expected)}); ` +
          'the folder is not an AudioLDM checkpoint of this layout, or it is incomplete: download it again',
      );
    }
    if (squeezed(info.shape) !== squeezed(expected)) {
      throw new ConvertError(
        'model-error',
        `checkpoint ${file}: tensor '${key}' has shape ${formatShape(info.shape)} but ${component} needs ${formatShape(expected)} ` +
          `(from its config.json); the weights and ${component}/config.json do not belong together: download the component again`,
      );
    }
    const data = this.loaded.get(key);
    if (!data) {
      if (this.served.has(key)) throw new ConvertError('internal', `${component}: tensor '${key}' was asked for twice; the converter hands each tensor over once (a bug)`);
      throw new ConvertError(
        'model-error',
        `checkpoint ${file}: tensor '${key}' ${formatShape(info.shape)} has dtype ${info.dtype}, which ${component} cannot use as float weights; convert the checkpoint to float32 or float16`,
      );
    }
    // Handed over: the builder copies it into the graph, so this copy can go.
    this.loaded.delete(key);
    this.served.add(key);
    if (!options?.transpose) return data;
    // Stored [out, in] row-major; element (i, o) of the graph's [in, out] is stored[o][i].
    const [inF, outF] = [dims[0], dims[1]];
    const out = new Float32Array(inF * outF);
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) out[i * outF + o] = data[o * inF + i];
    return out;
  }

  /** Tensors of the checkpoint the graph never took, in file order (ignored ones aside). */
  unused(): string[] {
    return [...this.listed.keys()].filter((k) => !this.served.has(k) && !this.options.ignore?.(k));
  }

  /** Drops whatever was not handed over. */
  release(): void {
    this.loaded.clear();
  }
}

/**
 * Reads every float tensor of `reader` that the options do not ignore, one at a time (checking `signal` between
 * them), into a {@link ComponentWeights}.
 */
export async function loadComponentWeights(reader: CheckpointReader, options: ComponentWeightsOptions): Promise<ComponentWeights> {
  const { tensors } = tensorsToLoad(reader, options.ignore);
  const loaded = new Map<string, Float32Array>();
  let bytes = 0;
  for (const info of tensors) {
    throwIfCancelled(options.signal, `reading ${options.component}`);
    const data = await reader.read(info.name);
    if (data.length !== elementCount(info.shape)) {
      throw new ConvertError('corrupt', `checkpoint ${options.file}: tensor '${info.name}' read ${data.length} values for shape ${formatShape(info.shape)}; download the file again`);
    }
    loaded.set(info.name, data);
    bytes += info.byteLength;
    options.onBytes?.(bytes);
  }
  return new ComponentWeights(loaded, reader.tensors(), options);
}

/** A shape without its size-1 axes, as a comparable string ([C] and [C, 1, 1] agree). */
function squeezed(shape: readonly number[]): string {
  return shape.filter((d) => d !== 1).join(',');
}
