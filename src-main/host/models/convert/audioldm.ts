/**
 * A diffusers AudioLDM (v1) folder → a Tessera pack, in TypeScript: model_index.json names the pipeline, each
 * component's config.json drives the graph builders of packs/audioldm/, its weights (safetensors or PyTorch .bin,
 * sharded or not) are read one component at a time (weights.ts), the RoBERTa vocab.json + merges.txt become
 * tokenizer.json, and the pack writer (host/packs/write.ts) hashes, validates and writes the folder atomically.
 *
 * Memory: one component's weights and the graph built from them, plus the graphs already built (held for the pack
 * writer); graphs over 2 GB move their weights to an external-data file, as ONNX protobufs cannot exceed 2 GB.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CodedError, errorMessage } from '../../../contract/errors.ts';
import type { AudioLdmComponentName } from '../../../contract/manifest.ts';
import { parseClapTextConfig, parseHifiGanConfig } from '../../../packs/audioldm/config-text-vocoder.ts';
import { parseUnetConfig, parseVaeConfig } from '../../../packs/audioldm/config-unet-vae.ts';
import { buildAudioLdmTextEncoder } from '../../../packs/audioldm/text-encoder.ts';
import { buildAudioLdmUnet, HEAD_CHANNELS_BY_WIDTH, unetHeads } from '../../../packs/audioldm/unet.ts';
import { buildAudioLdmVaeDecoder } from '../../../packs/audioldm/vae-decoder.ts';
import { buildAudioLdmVocoder } from '../../../packs/audioldm/vocoder.ts';
import { externalizeInitializers } from '../../../packs/graph/external-data.ts';
import type { BuiltGraph } from '../../../packs/graph/nn.ts';
import { buildRobertaTokenizerJson, parseMergesTxt, parseVocabJson, robertaSpecialIds } from '../../../packs/roberta-tokenizer.ts';
import type { AudioLdmManifestDraft, BuiltPack } from '../../../packs/types.ts';
import type { VerifiedPack } from '../../packs/load.ts';
import { writePack } from '../../packs/write.ts';
import { findComponentWeights, openCheckpoint, type CheckpointReader } from '../checkpoint/index.ts';
import { ConvertError, throwIfCancelled } from './errors.ts';
import { type AudioLdmConfigs, audioLdmManifestDraft, GRAPH_FILES, LICENCE_FILE, licenceText, parseSchedulerConfig, TOKENIZER_FILE } from './manifest.ts';
import { type ComponentWeights, loadComponentWeights, tensorsToLoad } from './weights.ts';

/** The pipeline class a folder must name in model_index.json. */
export const AUDIOLDM_PIPELINE = 'AudioLDMPipeline';
/** ONNX protobufs are limited to 2 GiB; a larger graph keeps its weights in an external-data file. */
export const EXTERNAL_DATA_ABOVE = 2 ** 31 - 1;

/** What {@link convertDiffusersAudioLdm} reports progress about: a graph being read and built, or the pack written. */
export type ConvertStage = AudioLdmComponentName | 'write';

/** Options of {@link convertDiffusersAudioLdm}. */
export interface ConvertOptions {
  /** The pack's id (lowercase letters, digits, `.`, `_`, `-`). */
  id: string;
  /** The pack's display name. */
  name: string;
  /**
   * The UNet's attention-head split: 'original' (default) as the original AudioLDM code (channels per head by
   * width, as the exporter's `--heads original`), 'config' as diffusers reads `attention_head_dim`.
   */
  heads?: 'original' | 'config';
  /**
   * Progress: `stage` is the graph being read and built (then 'write'); `done` and `total` count the weight bytes
   * of the whole conversion, so they only grow.
   */
  onProgress?: (stage: ConvertStage, done: number, total: number) => void;
  /**
   * A float16 UNet (GroupNorm, LayerNorm, Softmax and the timestep embedding in float32; inputs and outputs float32),
   * as the exporter's `--fp16`; the pack's name, description and licence say so. Default false.
   */
  unetFp16?: boolean;
  /** Cancels between tensors and between components; nothing is written then. */
  signal?: AbortSignal;
  /** Hub repo (`cvssp/audioldm-s-full-v2`) the folder came from, for the licence notice (default: the folder). */
  source?: string;
  /** The hub commit, for the version and the licence notice. */
  revision?: string;
  /** Graphs larger than this many bytes get external data (default {@link EXTERNAL_DATA_ABOVE}; tests lower it). */
  externalDataAbove?: number;
}

/** What a conversion produced. */
export interface ConvertResult {
  pack: VerifiedPack;
  /** Checkpoint tensors no graph used (beyond buffers known to be unused), one line per component. */
  warnings: string[];
}

/** One component of the pipeline as the converter handles it. */
interface ComponentPlan {
  name: AudioLdmComponentName;
  /** Its folder in the diffusers layout. */
  folder: string;
  /** Weight-file stems diffusers/transformers use for it. */
  stems: readonly string[];
  /** Tensors no graph reads that are not worth a warning. */
  ignore: (key: string) => boolean;
}

const DIFFUSERS_STEMS = ['diffusion_pytorch_model'] as const;
const TRANSFORMERS_STEMS = ['model', 'pytorch_model'] as const;

/** The model_index.json entries an AudioLDM folder must have. */
const REQUIRED_ENTRIES = ['text_encoder', 'tokenizer', 'unet', 'vae', 'vocoder', 'scheduler'] as const;

/** True when `dir` holds a diffusers `model_index.json` (any pipeline). */
export async function isDiffusersFolder(dir: string): Promise<boolean> {
  return (await readFile(join(dir, 'model_index.json')).catch(() => undefined)) !== undefined;
}

/** Converts the diffusers AudioLDM folder `sourceDir` into a pack written atomically at `outDir`; see the file comment. */
export async function convertDiffusersAudioLdm(sourceDir: string, outDir: string, options: ConvertOptions): Promise<ConvertResult> {
  const { signal } = options;
  // 1. Recognise the pipeline and read every config before any weight.
  await checkModelIndex(sourceDir);
  const unet = parseUnetConfig(await readJson(sourceDir, 'unet/config.json'));
  const vae = parseVaeConfig(await readJson(sourceDir, 'vae/config.json'));
  const textEncoder = parseClapTextConfig(await readJson(sourceDir, 'text_encoder/config.json'));
  const vocoder = parseHifiGanConfig(await readJson(sourceDir, 'vocoder/config.json'));
  const scheduler = parseSchedulerConfig(await readJson(sourceDir, 'scheduler/scheduler_config.json'));
  const configs: AudioLdmConfigs = { unet, vae, textEncoder, vocoder, scheduler };
  const heads = options.heads ?? 'original';
  const fp16 = options.unetFp16 === true;
  // The exporter's wording, so that both paths describe an fp16 pack alike (its description and licence notice).
  const headsNote = describeHeads(configs, heads) + (fp16 ? ' The UNet was converted to float16 (normalisation, softmax and the timestep embedding kept in float32).' : '');

  // 2. The tokenizer: vocab.json + merges.txt → tokenizer.json, limited as the text encoder reads.
  const tokenizer = await buildTokenizer(sourceDir, textEncoder.maxPositionEmbeddings - 2);

  // 3. Open the four checkpoints (headers only) to know the bytes to read.
  const plans: ComponentPlan[] = [
    { name: 'textEncoder', folder: 'text_encoder', stems: TRANSFORMERS_STEMS, ignore: (k) => k === 'text_model.embeddings.position_ids' || k === 'text_model.embeddings.token_type_ids' },
    { name: 'unet', folder: 'unet', stems: DIFFUSERS_STEMS, ignore: () => false },
    { name: 'vaeDecoder', folder: 'vae', stems: DIFFUSERS_STEMS, ignore: (k) => k.startsWith('encoder.') || k.startsWith('quant_conv.') },
    // normalize_before false: the stored mean/scale buffers are not applied (transformers does the same).
    { name: 'vocoder', folder: 'vocoder', stems: TRANSFORMERS_STEMS, ignore: (k) => !vocoder.normalizeBefore && (k === 'mean' || k === 'scale') },
  ];
  const readers = new Map<AudioLdmComponentName, { reader: CheckpointReader; file: string }>();
  const files: Record<string, Uint8Array> = {};
  const warnings: string[] = [];
  const externalData: Partial<Record<AudioLdmComponentName, string[]>> = {};
  try {
    for (const plan of plans) {
      const file = await findComponentWeights(join(sourceDir, plan.folder), plan.stems).catch((e: unknown) => {
        throw new ConvertError('not-found', `${errorMessage(e)} The folder is not a complete AudioLDM checkpoint: download it again.`, { cause: e });
      });
      readers.set(plan.name, { reader: await openCheckpoint(file), file: relativeName(sourceDir, file) });
    }
    const total = plans.reduce((sum, p) => sum + tensorsToLoad(reader(readers, p.name).reader, p.ignore).bytes, 0);
    let before = 0;

    // 4. Per component: read its tensors, build its graph, drop the tensors.
    for (const plan of plans) {
      throwIfCancelled(signal, `converting ${plan.folder}`);
      const { reader: r, file } = reader(readers, plan.name);
      const base = before;
      options.onProgress?.(plan.name, base, total);
      const weights = await loadComponentWeights(r, {
        component: plan.folder,
        file,
        ignore: plan.ignore,
        ...(signal ? { signal } : {}),
        onBytes: (bytes) => options.onProgress?.(plan.name, base + bytes, total),
      });
      before += tensorsToLoad(r, plan.ignore).bytes;
      let graph: BuiltGraph;
      try {
        graph = buildGraph(plan.name, configs, weights, heads, fp16);
      } finally {
        weights.release();
      }
      const unused = weights.unused();
      if (unused.length > 0) warnings.push(`${file}: ${unused.length} tensor(s) no graph uses: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? `, and ${unused.length - 8} more` : ''}`);
      const graphFile = GRAPH_FILES[plan.name];
      // Decided on the weights' size before serialising: a graph over protobuf's 2 GB (AudioLDM-L's UNet) cannot be
      // serialised whole ("data is too long"), so its weights go to external data as the graph is written.
      const weightBytes = graph.parameters * (fp16 && plan.name === 'unet' ? 2 : 4);
      if (weightBytes > (options.externalDataAbove ?? EXTERNAL_DATA_ABOVE)) {
        const dataFile = `${graphFile}.data`;
        const split = graph.external ? graph.external([dataFile]) : externalizeInitializers(graph.bytes, [dataFile]);
        files[graphFile] = split.graph;
        Object.assign(files, split.shards);
        externalData[plan.name] = [dataFile];
      } else {
        files[graphFile] = graph.bytes;
      }
      await r.close();
    }
  } finally {
    await Promise.all([...readers.values()].map(({ reader: r }) => r.close().catch(() => undefined)));
  }

  // 5. Manifest, licence, tokenizer; then the pack writer (sha256s, validation, temp folder + rename).
  throwIfCancelled(signal, 'writing the pack');
  const source = options.source ?? sourceDir;
  const manifest: AudioLdmManifestDraft = audioLdmManifestDraft(configs, {
    id: options.id,
    name: fp16 ? `${options.name} (fp16 UNet)` : options.name,
    source,
    ...(options.revision ? { revision: options.revision } : {}),
    headsNote,
    tokenizer: tokenizer.limits,
    externalData,
  });
  files[TOKENIZER_FILE] = new TextEncoder().encode(JSON.stringify(tokenizer.json));
  files[LICENCE_FILE] = new TextEncoder().encode(licenceText({ source, ...(options.revision ? { revision: options.revision } : {}), headsNote }));
  const built: BuiltPack<AudioLdmManifestDraft> = { manifest, files };
  const bytes = Object.values(files).reduce((sum, f) => sum + f.length, 0);
  options.onProgress?.('write', bytes, bytes);
  const pack = await writePack(built, outDir);
  return { pack, warnings };
}

function reader(readers: ReadonlyMap<AudioLdmComponentName, { reader: CheckpointReader; file: string }>, name: AudioLdmComponentName): { reader: CheckpointReader; file: string } {
  const r = readers.get(name);
  if (!r) throw new ConvertError('internal', `no checkpoint was opened for ${name} (a bug in the converter)`);
  return r;
}

/** Builds one graph from its weights. */
function buildGraph(name: AudioLdmComponentName, c: AudioLdmConfigs, weights: ComponentWeights, heads: 'original' | 'config', fp16: boolean): BuiltGraph {
  switch (name) {
    case 'textEncoder':
      return buildAudioLdmTextEncoder(c.textEncoder, weights);
    case 'unet':
      return buildAudioLdmUnet(c.unet, weights, { heads, fp16 });
    case 'vaeDecoder':
      return buildAudioLdmVaeDecoder(c.vae, weights);
    case 'vocoder':
      return buildAudioLdmVocoder(c.vocoder, weights, (k) => weights.has(k));
  }
}

/** The head split in words, for the description and the licence; also refuses a split the widths do not allow. */
function describeHeads(c: AudioLdmConfigs, heads: 'original' | 'config'): string {
  const width = c.unet.blockOutChannels[0];
  if (heads === 'original' && HEAD_CHANNELS_BY_WIDTH[width] === undefined) {
    throw new ConvertError(
      'model-error',
      `unet/config.json: block_out_channels[0] is ${width}, not the ${Object.keys(HEAD_CHANNELS_BY_WIDTH).join('/')} of AudioLDM S, M or L, so the original ` +
        "attention-head split is unknown; convert with heads 'config' to use the config's attention_head_dim (npm run models -- import DIR --heads config)",
    );
  }
  const perLevel = unetHeads(c.unet, { heads });
  const used = perLevel.filter((_, level) => c.unet.attentionLevels[level] || level === perLevel.length - 1);
  if (heads === 'original') {
    const channels = HEAD_CHANNELS_BY_WIDTH[c.unet.blockOutChannels[0]];
    return `Attention heads: the original AudioLDM split (${channels} channels per head; heads per level ${used.join(', ')}).`;
  }
  return `Attention heads: diffusers' split (${used.join(', ')} heads per level).`;
}

/** Reads model_index.json and refuses anything but an AudioLDM v1 pipeline with all its components. */
async function checkModelIndex(dir: string): Promise<void> {
  const index = await readJson(dir, 'model_index.json');
  if (index === null || typeof index !== 'object' || Array.isArray(index)) {
    throw new ConvertError('model-error', `${join(dir, 'model_index.json')} is not a JSON object; download the checkpoint again`);
  }
  const entries = index as Record<string, unknown>;
  const pipeline = entries._class_name;
  if (pipeline !== AUDIOLDM_PIPELINE) {
    const what = typeof pipeline === 'string' ? `a ${pipeline}` : 'a folder without a pipeline class (_class_name)';
    throw new ConvertError(
      'model-error',
      `${dir} holds ${what}, not an ${AUDIOLDM_PIPELINE}: Tessera converts AudioLDM v1 checkpoints (cvssp/audioldm-s-full-v2, audioldm-m-full, audioldm-l-full). ` +
        'For another model, import a Tessera pack made for it.',
    );
  }
  const missing = REQUIRED_ENTRIES.filter((k) => !Array.isArray(entries[k]));
  if (missing.length > 0) {
    throw new ConvertError('model-error', `${join(dir, 'model_index.json')} names no ${missing.join(', ')}; an AudioLDMPipeline has ${REQUIRED_ENTRIES.join(', ')}: download the checkpoint again`);
  }
}

/** The tokenizer.json of the folder's RoBERTa tokenizer and the manifest's limits and ids. */
async function buildTokenizer(dir: string, positionLimit: number): Promise<{ json: Record<string, unknown>; limits: { maxLength: number; padId: number; unkId: number } }> {
  const vocab = parseVocabJson(await readText(dir, 'tokenizer/vocab.json'));
  const merges = parseMergesTxt(await readText(dir, 'tokenizer/merges.txt'));
  const config = (await readJson(dir, 'tokenizer/tokenizer_config.json', true)) as { model_max_length?: unknown; add_prefix_space?: unknown } | undefined;
  // Tokenizers without a limit report 1e30; RoBERTa's real limit is the text encoder's positions.
  const declared = typeof config?.model_max_length === 'number' && config.model_max_length > 0 ? config.model_max_length : positionLimit;
  const maxLength = Math.min(declared, positionLimit);
  const json = buildRobertaTokenizerJson(vocab, merges, { maxLength, addPrefixSpace: config?.add_prefix_space === true });
  const ids = robertaSpecialIds(vocab);
  return { json, limits: { maxLength, padId: ids.pad, unkId: ids.unk } };
}

async function readText(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (e) {
    const missing = (e as { code?: unknown }).code === 'ENOENT';
    throw new ConvertError(
      missing ? 'not-found' : 'io-error',
      missing ? `${dir} has no ${file}; an AudioLDM checkpoint folder has one: download it again` : `Could not read ${join(dir, file)}: ${errorMessage(e)}`,
      { cause: e },
    );
  }
}

async function readJson(dir: string, file: string, optional = false): Promise<unknown> {
  let text: string;
  try {
    text = await readText(dir, file);
  } catch (e) {
    if (optional && e instanceof CodedError && e.code === 'not-found') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConvertError('model-error', `${join(dir, file)} is not valid JSON (${errorMessage(e)}); download the checkpoint again`, { cause: e });
  }
}

/** `file` relative to the folder, for messages (`unet/diffusion_pytorch_model.safetensors`). */
function relativeName(dir: string, file: string): string {
  return file.startsWith(dir) ? file.slice(dir.length).replace(/^[\\/]+/, '') : file;
}

