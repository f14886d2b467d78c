/**
 * GroupNorm-synchronised chunked VAE decoding (research/longform.md §5.2) over a decoder rewritten by
 * packs/graph/groupnorm-stats.ts: every GroupNorm of every chunk normalises with statistics shared by the whole piece,
 * exact ones ({@link decodeWithSharedStats}) or estimated ones ({@link decodeWithEstimatedStats}).
 *
 * ONNX Runtime cannot pause a session at a GroupNorm, so the barrier of §5.2 becomes a recomputation: pass p runs every
 * chunk with the final statistics of the layers already known and provisional ones for the rest, and sums each
 * layer's pre-norm activations over the chunk cores (float64 across chunks). A layer becomes final in the first pass
 * in which every GroupNorm upstream of it already was; its core activations are then exact in every chunk (the halo
 * covers the convolutions' receptive field, §5.3), so the merged statistics are the full decode's. A last pass decodes
 * every chunk with all statistics final and stitches the output cores.
 *
 * Cost: (D + 1) chunked decodes, D the depth of the GroupNorm dependency chain: L + 1 for a decoder whose L GroupNorms
 * form one chain (AudioLDM's VAE, the shape packs). Layers that do not depend on each other share a pass (exact; this
 * is the only batching that is). Sums of a layer whose upstream is not final are not exact and only serve as its
 * provisional statistics in the next pass (mean 0, var 1 in the first), which keeps downstream activations at their
 * usual scale; they never reach a final layer's sums. Memory: one chunk's activations plus 2·G floats per layer.
 * NOTE: every pass is a full chunked decode: ORT 1.30 executes the whole graph even when only some outputs are
 * fetched (measured: fetching gn0's sums alone takes as long as fetching everything). Cheaper early passes would need
 * one truncated graph per GroupNorm, i.e. L copies of the weights.
 *
 * Estimated statistics (issue 12 §3): pass 1 runs window mode's chunks with their own statistics (`own_stats` = 1,
 * i.e. window mode's activations) and merges every layer's core sums at once; pass 2 decodes the same chunks with
 * those merged statistics through {@link decodeChunked}, whose crossfade and level match then only have to hide what
 * the chunk-local mid-block attention changes. Cost: 2 chunked decodes, or 1 run when the plan is one chunk (pass 1
 * is then the one-pass decode), as it is for a latent of up to two cores (decode.ts VAE_SINGLE_PASS_CORES; AudioLDM:
 * up to 20.48 s, which took 4 runs of 328 frames from 13.16 s on). Seams come from chunks normalising differently,
 * so statistics shared by every chunk remove them; how good the estimates are decides only how close the result is
 * to the one-pass decode. On shape-s with loudness changing near the joins (T = 768, 12 layouts): audio seam step SSZ
 * 0.7–3.2 (one pass 1.2–3.4, window mode up to 15.8), log-mel error against one pass 0.5–2.5 dB (window 1.2–7.9;
 * docs/BENCHMARKS.md).
 *
 * Statistics merge: n = Σnᵢ, μ = ΣSᵢ/n, σ² = max(ΣQᵢ/n − μ², 0) (biased, as GroupNorm), in float64 from the graph's
 * float32 per-chunk sums Sᵢ = Σx, Qᵢ = Σx². The output matches the one-pass decode up to float32 summation order.
 *
 * | symbol | meaning |
 * |---|---|
 * | L | GroupNorm layers of the graph (`layers`) |
 * | G | groups of a layer |
 * | r | output frames per latent frame (4 for AudioLDM's mel) |
 */
import { throwIfAborted } from '../errors.ts';
import { f32, sizeOf, type F32, type Tensor } from '../tensor/tensor.ts';
import { planChunks, type Chunk } from './chunks.ts';
import { decodeChunked, decodePlanFor, type DecodeChunkedOptions, type VaeGeometry } from './decode.ts';

/** One run of the rewritten decoder: feeds by input name → outputs by name (a session's `run`). */
export type GraphRun = (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>;

/** The rewritten decoder's name (for messages) and its input and output names (to find its latent and its output). */
export interface GraphIo {
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
}

/** Graph inputs with the chunk's core in input latent frames (int64 [1]), as packs/graph/groupnorm-stats.ts names them. */
const CORE_START_INPUT = 'core_start';
const CORE_END_INPUT = 'core_end';
/** Graph input o (float32 [1]): 1 = each GroupNorm uses the chunk's own statistics, 0 = the fed ones. */
const OWN_STATS_INPUT = 'own_stats';

/** What the decode needs to know about one rewritten GroupNorm (packs' `GroupNormLayer` satisfies it). */
export interface SharedStatsLayer {
  readonly index: number;
  readonly groups: number;
  /** Indices of the GroupNorm layers whose statistics this layer's input depends on. */
  readonly upstream: readonly number[];
  readonly meanInput: string;
  readonly varInput: string;
  readonly sumOutput: string;
  readonly sumsqOutput: string;
  readonly countOutput: string;
}

/** Options of {@link decodeWithSharedStats}. */
export interface SharedStatsDecodeOptions {
  /** Latent frames each chunk contributes at most. */
  core: number;
  /** Latent frames of context per side; exact when ≥ the decoder's conv receptive field (`vaeHaloLatentFrames`). */
  halo: number;
  /** Checked before every chunk run; a fired signal throws the engine's CancelledError. */
  signal?: AbortSignal;
  /** Called after each chunk run with the runs done and the run count: (D + 1) × chunks exact, 2 × chunks estimated. */
  onProgress?: (done: number, total: number) => void;
}

/** Per-group mean and (biased) variance of one GroupNorm over the whole piece. */
export interface GroupStats {
  mean: Float64Array;
  variance: Float64Array;
}

/** Passes of the statistics phase: pass p finalises `layers` whose upstream layers are all final before it. */
export function statisticsPasses(layers: readonly SharedStatsLayer[]): number[][] {
  const byIndex = new Map(layers.map((l) => [l.index, l]));
  const depth = new Map<number, number>();
  const depthOf = (l: SharedStatsLayer, path: ReadonlySet<number>): number => {
    const known = depth.get(l.index);
    if (known !== undefined) return known;
    if (path.has(l.index)) throw new RangeError(`GroupNorm layer ${l.index} depends on itself; the layer list is corrupt`);
    let d = 0;
    for (const u of l.upstream) {
      const up = byIndex.get(u);
      if (!up) throw new RangeError(`GroupNorm layer ${l.index} depends on layer ${u}, which is not in the layer list`);
      d = Math.max(d, depthOf(up, new Set([...path, l.index])) + 1);
    }
    depth.set(l.index, d);
    return d;
  };
  const passes: number[][] = [];
  for (const l of layers) {
    const d = depthOf(l, new Set());
    while (passes.length <= d) passes.push([]);
    passes[d].push(l.index);
  }
  return passes;
}

/**
 * Decodes latent [1, C, T, Fq] with a shared-statistics decoder (`run`, whose tensors `graph` names) to its output
 * [1, Cₒ, r·T, Fₒ] (mel [1, 1, 4T, 64] for AudioLDM; rank 3, [1, C, T] → [1, Cₒ, r·T], works too), chunk by chunk,
 * matching the one-pass decode when `halo` covers the conv receptive field. Cost: (D + 1) × one chunked decode
 * (file header).
 */
export async function decodeWithSharedStats(
  run: GraphRun,
  graph: GraphIo,
  layers: readonly SharedStatsLayer[],
  latent: F32,
  options: SharedStatsDecodeOptions,
): Promise<F32> {
  const passes = statisticsPasses(layers);
  const { chunks, runChunk, stitch } = chunkedDecode(run, graph, layers, latent, options, passes.length + 1, 'VAE decode (shared GroupNorm statistics)');

  // 1. Statistics: one pass per level of the GroupNorm dependency graph.
  const final = await statisticsPhase(graph.name, layers, chunks, passes, (chunk, stats) => runChunk(chunk, stats, 0));

  // 2. Decode every chunk with the piece's statistics and stitch the output cores.
  for (const chunk of chunks) stitch(chunk, await runChunk(chunk, final, 0));
  return stitch.result();
}

/**
 * Feeds that make the rewritten decoder compute what the original graph does on `latent`: o = 1 (every GroupNorm
 * with its own statistics), so a host can open only the rewritten session and decode in windows with it too.
 */
export function ownStatsFeeds(latentName: string, latent: F32, layers: readonly SharedStatsLayer[]): Record<string, Tensor> {
  const frames = BigInt(latent.dims[2] ?? 0);
  const feeds: Record<string, Tensor> = {
    [latentName]: latent,
    [CORE_START_INPUT]: { type: 'int64', data: BigInt64Array.of(0n), dims: [1] },
    [CORE_END_INPUT]: { type: 'int64', data: BigInt64Array.of(frames), dims: [1] },
    [OWN_STATS_INPUT]: f32(Float32Array.of(1), [1]),
  };
  for (const l of layers) {
    feeds[l.meanInput] = f32(new Float32Array(l.groups), [l.groups]);
    feeds[l.varInput] = f32(new Float32Array(l.groups).fill(1), [l.groups]);
  }
  return feeds;
}

/** Options of {@link decodeWithEstimatedStats}: window mode's chunking, fades and level match, and a run counter. */
export interface EstimatedStatsDecodeOptions extends Omit<DecodeChunkedOptions, 'onChunk'> {
  /** Called after each chunk run with the runs done and the run count, 2 × chunks (1 when the plan is one chunk). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decodes latent [1, C, T, Fq] to mel [1, 1, r·T, bins] with statistics estimated in one pass (file header): window
 * mode's chunk plan, crossfade and level match ({@link decodeChunked}), but every chunk normalises with the same
 * statistics. 2 chunked decodes (1 when the latent fits one chunk, as it does up to two cores: {@link decodePlanFor}).
 * Not exact: the estimates come from window-mode activations, and a decoder's attention still sees only its chunk.
 */
export async function decodeWithEstimatedStats(
  run: GraphRun,
  graph: GraphIo,
  layers: readonly SharedStatsLayer[],
  latent: F32,
  geometry: VaeGeometry,
  options: EstimatedStatsDecodeOptions = {},
): Promise<F32> {
  const io = checkIo(graph, layers);
  checkLatent(latent);
  const { chunks } = decodePlanFor(geometry, latent.dims[2], options);
  const runs = chunks.length === 1 ? 1 : 2 * chunks.length;
  let done = 0;
  const unit = new Map(layers.map((l) => [l.index, unitStats(l.groups)]));
  /** Runs chunk `chunk` of `source` (the latent, or a part decodeChunked cut out of it). */
  const runChunk = async (source: F32, chunk: Chunk, stats: ReadonlyMap<number, GroupStats>, own: 0 | 1): Promise<Record<string, Tensor>> => {
    throwIfAborted(options.signal, 'VAE decode (estimated GroupNorm statistics)');
    const out = await run(chunkFeeds(io.latent, source, chunk, layers, stats, own));
    options.onProgress?.(++done, runs);
    return out;
  };
  const melOf = (out: Record<string, Tensor>): F32 => {
    const mel = out[io.output];
    if (mel?.type !== 'float32') throw new RangeError(`${graph.name}: output '${io.output}' is ${mel?.type ?? 'missing'}, expected float32`);
    return mel as F32;
  };
  // One chunk holds the whole latent: its own statistics are the piece's, so pass 1 is already the one-pass decode.
  if (chunks.length === 1) return melOf(await runChunk(latent, chunks[0], unit, 1));

  // 1. Every chunk with its own statistics (window mode's activations); every layer's core sums merged at once.
  const sums = new Map(layers.map((l) => [l.index, new StatsAccumulator(l.groups)]));
  for (const chunk of chunks) {
    const out = await runChunk(latent, chunk, unit, 1);
    for (const l of layers) sums.get(l.index)?.add(l, out);
  }
  const estimated = new Map<number, GroupStats>();
  for (const l of layers) {
    const merged = sums.get(l.index)?.finish();
    if (!merged) throw new Error(`${graph.name}: GroupNorm ${l.index} produced non-finite or empty core sums; the statistics cannot be estimated`);
    estimated.set(l.index, merged);
  }

  // 2. Window decoding of the same chunks, each with the estimated statistics (the core is irrelevant with o = 0).
  const whole = (width: number): Chunk => ({ start: 0, end: width, keepStart: 0, keepEnd: width });
  const decode = async (part: F32): Promise<F32> => melOf(await runChunk(part, whole(part.dims[2]), estimated, 0));
  const { onProgress: _progress, ...chunking } = options;
  return decodeChunked(decode, latent, geometry, chunking);
}

/** Checks, plan, a counting chunk runner and an output stitcher for a decode of `passes` chunked passes. */
function chunkedDecode(
  run: GraphRun,
  graph: GraphIo,
  layers: readonly SharedStatsLayer[],
  latent: F32,
  options: SharedStatsDecodeOptions,
  passes: number,
  what: string,
): {
  chunks: Chunk[];
  runChunk: (chunk: Chunk, stats: ReadonlyMap<number, GroupStats>, own: 0 | 1) => Promise<Record<string, Tensor>>;
  stitch: ((chunk: Chunk, out: Record<string, Tensor>) => void) & { result: () => F32 };
} {
  const io = checkIo(graph, layers);
  checkLatent(latent);
  const total = latent.dims[2];
  const chunks = planChunks(total, options.core, options.halo);
  const runs = passes * chunks.length;
  let done = 0;
  const runChunk = async (chunk: Chunk, stats: ReadonlyMap<number, GroupStats>, own: 0 | 1): Promise<Record<string, Tensor>> => {
    throwIfAborted(options.signal, what);
    const out = await run(chunkFeeds(io.latent, latent, chunk, layers, stats, own));
    options.onProgress?.(++done, runs);
    return out;
  };

  let result: Float32Array | undefined;
  let outDims: number[] = [];
  const add = (chunk: Chunk, outputs: Record<string, Tensor>): void => {
    const out = outputs[io.output];
    if (!(out?.data instanceof Float32Array) || out.dims.length < 3 || out.dims[0] !== 1) {
      throw new RangeError(`${graph.name}: output '${io.output}' is ${out?.type} [${out?.dims.join(', ')}], expected float32 [1, C, r·T, …]`);
    }
    const outData = out.data;
    const width = chunk.end - chunk.start;
    const [, channels, frames, ...rest] = out.dims;
    const bins = sizeOf(rest);
    const r = frames / width;
    if (!Number.isInteger(r) || r < 1) throw new RangeError(`${graph.name}: output has ${frames} frames for ${width} latent frames; expected a whole multiple`);
    if (!result) {
      outDims = [1, channels, r * total, ...rest];
      result = new Float32Array(channels * r * total * bins);
    }
    // Per output channel, output frames [r·keepStart, r·keepEnd) come from the chunk's [r·(keepStart − start), …).
    for (let ch = 0; ch < channels; ch++) {
      const from = (ch * frames + r * (chunk.keepStart - chunk.start)) * bins;
      const to = from + r * (chunk.keepEnd - chunk.keepStart) * bins;
      result.set(outData.subarray(from, to), (ch * r * total + r * chunk.keepStart) * bins);
    }
  };
  const stitch = Object.assign(add, {
    result: (): F32 => {
      if (!result) throw new Error(`${graph.name}: no chunk was decoded`);
      return f32(result, outDims);
    },
  });
  return { chunks, runChunk, stitch };
}

type ChunkRunner = (chunk: Chunk, stats: ReadonlyMap<number, GroupStats>) => Promise<Record<string, Tensor>>;

/** Runs the statistics passes (§5.2 steps 2–3 as recomputation) and returns every layer's final statistics. */
async function statisticsPhase(
  graph: string,
  layers: readonly SharedStatsLayer[],
  chunks: readonly Chunk[],
  passes: readonly (readonly number[])[],
  run: ChunkRunner,
): Promise<Map<number, GroupStats>> {
  const final = new Map<number, GroupStats>();
  const provisional = new Map<number, GroupStats>(layers.map((l) => [l.index, unitStats(l.groups)]));
  for (const finalising of passes) {
    const sums = new Map(layers.map((l) => [l.index, new StatsAccumulator(l.groups)]));
    const current = new Map([...provisional, ...final]);
    for (const chunk of chunks) {
      const out = await run(chunk, current);
      for (const l of layers) sums.get(l.index)?.add(l, out);
    }
    for (const l of layers) {
      if (final.has(l.index)) continue;
      const merged = sums.get(l.index)?.finish();
      if (finalising.includes(l.index)) {
        if (!merged) throw new Error(`${graph}: GroupNorm ${l.index} produced non-finite or empty core sums; the decode cannot be exact`);
        final.set(l.index, merged);
      } else if (merged) provisional.set(l.index, merged);
    }
  }
  return final;
}

/** Float64 running sums of one layer's per-chunk core sums. */
class StatsAccumulator {
  private count = 0;
  private readonly sum: Float64Array;
  private readonly sumsq: Float64Array;

  constructor(private readonly groups: number) {
    this.sum = new Float64Array(groups);
    this.sumsq = new Float64Array(groups);
  }

  add(layer: SharedStatsLayer, out: Record<string, Tensor>): void {
    const s = out[layer.sumOutput]?.data;
    const q = out[layer.sumsqOutput]?.data;
    const n = out[layer.countOutput]?.data;
    if (!(s instanceof Float32Array) || !(q instanceof Float32Array) || !(n instanceof BigInt64Array) || s.length !== this.groups || q.length !== this.groups || n.length !== 1) {
      throw new RangeError(`GroupNorm ${layer.index}: outputs '${layer.sumOutput}', '${layer.sumsqOutput}', '${layer.countOutput}' are missing or not float32 [${this.groups}] / int64 [1]`);
    }
    this.count += Number(n[0]);
    for (let g = 0; g < this.groups; g++) {
      this.sum[g] += s[g];
      this.sumsq[g] += q[g];
    }
  }

  /** μ, σ² over everything added; undefined when nothing was counted or a sum is not finite. */
  finish(): GroupStats | undefined {
    if (this.count <= 0) return undefined;
    const mean = new Float64Array(this.groups);
    const variance = new Float64Array(this.groups);
    for (let g = 0; g < this.groups; g++) {
      mean[g] = this.sum[g] / this.count;
      variance[g] = Math.max(this.sumsq[g] / this.count - mean[g] * mean[g], 0);
      if (!Number.isFinite(mean[g]) || !Number.isFinite(variance[g])) return undefined;
    }
    return { mean, variance };
  }
}

/** Batch 1, channels, then time on axis 2 (the axis the rewrite's core refers to). */
function checkLatent(latent: F32): void {
  if (latent.dims.length < 3 || latent.dims[0] !== 1) {
    throw new RangeError(`decodeWithSharedStats: latent dims [${latent.dims.join(', ')}] must be [1, C, T, …]; decode one take at a time`);
  }
}

function unitStats(groups: number): GroupStats {
  return { mean: new Float64Array(groups), variance: new Float64Array(groups).fill(1) };
}

/** The latent input and the decoded output among the graph's tensors (the ones the rewrite did not add). */
function checkIo(graph: GraphIo, layers: readonly SharedStatsLayer[]): { latent: string; output: string } {
  const statsInputs = new Set([CORE_START_INPUT, CORE_END_INPUT, OWN_STATS_INPUT, ...layers.flatMap((l) => [l.meanInput, l.varInput])]);
  const statsOutputs = new Set(layers.flatMap((l) => [l.sumOutput, l.sumsqOutput, l.countOutput]));
  const inputNames = graph.inputs;
  const outputNames = graph.outputs;
  const missing = [...[...statsInputs].filter((n) => !inputNames.includes(n)), ...[...statsOutputs].filter((n) => !outputNames.includes(n))];
  const latent = inputNames.filter((n) => !statsInputs.has(n));
  const output = outputNames.filter((n) => !statsOutputs.has(n));
  if (layers.length === 0 || missing.length > 0 || latent.length !== 1 || output.length !== 1) {
    throw new RangeError(
      `${graph.name}: not a shared-statistics decoder for these ${layers.length} GroupNorm layers ` +
        `(missing: ${missing.join(', ') || 'none'}; other inputs: ${latent.join(', ') || 'none'}; other outputs: ${output.join(', ') || 'none'}). ` +
        'Rewrite the decoder with rewriteGroupNormForSharedStats and pass its layer list.',
    );
  }
  return { latent: latent[0], output: output[0] };
}

/** Feeds for one chunk: its latent frames [start, end), its core relative to start, every layer's statistics and o. */
function chunkFeeds(
  latentName: string,
  latent: F32,
  chunk: Chunk,
  layers: readonly SharedStatsLayer[],
  stats: ReadonlyMap<number, GroupStats>,
  own: 0 | 1,
): Record<string, Tensor> {
  const [, channels, total, ...rest] = latent.dims;
  const bins = sizeOf(rest);
  const width = chunk.end - chunk.start;
  const data = new Float32Array(channels * width * bins);
  // One contiguous block of width·F floats per channel.
  for (let ch = 0; ch < channels; ch++) {
    data.set(latent.data.subarray((ch * total + chunk.start) * bins, (ch * total + chunk.end) * bins), ch * width * bins);
  }
  const feeds: Record<string, Tensor> = {
    [latentName]: f32(data, [1, channels, width, ...rest]),
    [CORE_START_INPUT]: { type: 'int64', data: BigInt64Array.of(BigInt(chunk.keepStart - chunk.start)), dims: [1] },
    [CORE_END_INPUT]: { type: 'int64', data: BigInt64Array.of(BigInt(chunk.keepEnd - chunk.start)), dims: [1] },
    [OWN_STATS_INPUT]: f32(Float32Array.of(own), [1]),
  };
  for (const l of layers) {
    const s = stats.get(l.index) ?? unitStats(l.groups);
    feeds[l.meanInput] = f32(Float32Array.from(s.mean), [l.groups]);
    feeds[l.varInput] = f32(Float32Array.from(s.variance), [l.groups]);
  }
  return feeds;
}
