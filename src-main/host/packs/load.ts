/**
 * Loading a model pack folder: manifest validation, file presence and sha256, tokenizer, and sessions whose
 * graphs are checked against the manifest. Every failure names the pack, the file and what to do.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { manifestFiles, parseManifest, type AudioLdmComponentName, type AudioLdmManifest, type ComponentSpec, type Manifest, type StableAudio3Manifest } from '../../contract/manifest.ts';
import { AudioLdmModel, type PromptTokenizer, type SharedStatsDecoder } from '../../engine/families/audioldm/model.ts';
import type { LatentDiffusionModel } from '../../engine/families/model.ts';
import { StableAudio3Model } from '../../engine/families/stable-audio-3/model.ts';
import { detectDecoder, detectDitVariant, detectNumberConditioner, detectTextEncoder, type GraphNames } from '../../engine/families/stable-audio-3/contract.ts';
import { rewriteGroupNormForSharedStats, sharedStatsSignature } from '../../packs/graph/groupnorm-stats.ts';
import type { DevicePreference, ExecutionProvider, PrecisionPreference } from '../../contract/generation-settings.ts';
import { openSession, type ActualSignature, type ModelSession, type ModelSource, type SessionOptions } from '../../engine/runtime/session.ts';
import { probeRuntime, type RuntimeChoice } from '../runtime-probe.ts';
import { denoiserVariant } from './precision.ts';
import { externalDataRefs, GraphFormatError } from './external-data.ts';
import { CodedError } from '../../contract/errors.ts';

/** A pack folder whose files were all found and verified. */
export interface VerifiedPack<M extends Manifest = Manifest> {
  dir: string;
  manifest: M;
}

/** A pack could not be loaded; the message says which file and why. */
export class PackError extends CodedError<'model-error'> {
  override name = 'PackError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('model-error', message, options);
  }
}

/** sha256 of a file, streamed (packs hold files of several GB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads and validates `dir/manifest.json` without reading the files it lists (a pack the caller has verified). */
export async function readPackManifest(dirIn: string): Promise<VerifiedPack> {
  const dir = resolve(dirIn);
  const manifestPath = join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (e) {
    throw new PackError(`model pack ${dir}: cannot read manifest.json (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); is this a Tessera model pack folder?`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PackError(`model pack ${dir}: manifest.json is not valid JSON (${(e as Error).message})`);
  }
  return { dir, manifest: parseManifest(json, `model pack ${dir}`) };
}

/** Reads and validates `dir/manifest.json`, then checks every file's presence and sha256. */
export async function verifyPack(dirIn: string): Promise<VerifiedPack> {
  const { dir, manifest } = await readPackManifest(dirIn);
  const problems: string[] = [];
  for (const { file, sha256 } of manifestFiles(manifest)) {
    const path = join(dir, file);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      problems.push(`${file}: missing`);
      continue;
    }
    const actual = await sha256File(path);
    if (actual !== sha256) problems.push(`${file}: sha256 ${actual} does not match the manifest's ${sha256} (${info.size} bytes; truncated or modified?)`);
  }
  if (problems.length > 0) {
    throw new PackError(`model pack '${manifest.id}' in ${dir} is damaged:\n  - ${problems.join('\n  - ')}\nReinstall or re-export the pack.`);
  }
  await checkExternalData(dir, manifest);
  return { dir, manifest };
}

/**
 * Every external-data file a graph reads must be listed (with its sha256) in its manifest entry, so no byte a
 * session loads is unverified. (ONNX Runtime itself refuses locations outside the graph's folder.)
 */
async function checkExternalData(dir: string, manifest: Manifest): Promise<void> {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(manifest.components) as Array<[string, ComponentSpec | undefined]>) {
    if (!spec) continue;
    let refs;
    try {
      refs = await externalDataRefs(join(dir, spec.file));
    } catch (e) {
      problems.push(`${spec.file}: ${e instanceof GraphFormatError ? e.message : `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`}`);
      continue;
    }
    const listed = new Set((spec.externalData ?? []).map((f) => f.file));
    const unlisted = [...new Set(refs.map((r) => r.location).filter((l) => !listed.has(l)))];
    for (const location of unlisted) {
      const tensor = refs.find((r) => r.location === location)?.tensor ?? '?';
      problems.push(`${spec.file} reads weights (tensor '${tensor}') from '${location}', which components.${name}.externalData does not list with a sha256`);
    }
  }
  if (problems.length > 0) {
    throw new PackError(
      `model pack '${manifest.id}' in ${dir} has graphs whose external weights are not verified:\n  - ${problems.join('\n  - ')}\n` +
        'List every external-data file in its graph\'s externalData (file and sha256) in manifest.json, or re-export the pack with a current Tessera tool.',
    );
  }
}

/** Loads a pack's tokenizer.json with @huggingface/tokenizers. */
export async function loadTokenizer(pack: VerifiedPack): Promise<PromptTokenizer> {
  const path = join(pack.dir, pack.manifest.tokenizer.file);
  let json: object;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as object;
  } catch (e) {
    throw new PackError(`model pack '${pack.manifest.id}': ${pack.manifest.tokenizer.file} is not valid JSON (${(e as Error).message})`);
  }
  const tokenizer = new Tokenizer(json, {});
  return {
    encode: (text, options) => tokenizer.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids,
    tokens: (text) => tokenizer.encode(text).tokens,
  };
}

/** Options for opening a model. */
export interface OpenModelOptions {
  device: DevicePreference;
  intraOpThreads?: number;
  /**
   * Open the audioldm VAE decoder rewritten for shared GroupNorm statistics (estimated and shared decoding) in place
   * of the original: the rewrite reproduces the original when asked to (own statistics), so one session serves every
   * mode. A decoder without GroupNorm keeps the original and says why (`sharedStatsDecoder.unavailable`). Default
   * false here; the host's ModelCache opens models with it.
   */
  sharedStatsDecoder?: boolean;
  /**
   * The denoiser's precision per provider (`auto` when absent: float16 on a WebGPU adapter with shader-f16;
   * host/packs/precision.ts).
   */
  precision?: Partial<Record<ExecutionProvider, PrecisionPreference>>;
  /** Measure WebGPU against the CPU again before `auto` chooses (host/webgpu-probe.ts). */
  remeasure?: boolean;
  /** The providers for `device`, when the caller probed them already (ModelCache probes while the pack resolves). */
  runtime?: RuntimeChoice;
}

/** The providers for `options.device`: the caller's probe, else a fresh one (nothing is probed for `cpu`). */
function runtimeFor(options: OpenModelOptions): Promise<RuntimeChoice> {
  return options.runtime ? Promise.resolve(options.runtime) : probeRuntime(options.device, { remeasure: options.remeasure === true });
}

/** Opens a verified pack of any family (its sessions on the requested device). */
export async function openModel(pack: VerifiedPack, options: OpenModelOptions): Promise<LatentDiffusionModel> {
  const { manifest } = pack;
  if (manifest.family === 'audioldm') return openAudioLdmModel({ dir: pack.dir, manifest }, options);
  return openStableAudio3Model({ dir: pack.dir, manifest }, options);
}

/** Opens the four sessions of a verified audioldm pack; closes whatever opened if one fails. */
export async function openAudioLdmModel(pack: VerifiedPack, options: OpenModelOptions): Promise<AudioLdmModel> {
  const { manifest } = pack;
  if (manifest.family !== 'audioldm') {
    throw new PackError(`model pack '${manifest.id}' is a ${manifest.family} model, not an audioldm one; open it with openModel`);
  }
  return openAudioLdm({ dir: pack.dir, manifest }, options);
}

async function openAudioLdm(pack: VerifiedPack<AudioLdmManifest>, options: OpenModelOptions): Promise<AudioLdmModel> {
  const names: AudioLdmComponentName[] = ['textEncoder', 'unet', 'vaeDecoder', 'vocoder'];
  const opened: ModelSession[] = [];
  const runtime = await runtimeFor(options);
  const open = (source: ModelSource, name: string, expected: SessionOptions['expected'], variant?: SessionOptions['variant']): Promise<ModelSession> =>
    openSession(source, { name, device: options.device, intraOpThreads: options.intraOpThreads, platform: process.platform, installed: runtime.installed, ...(runtime.auto ? { auto: runtime.auto } : {}), expected, ...(variant ? { variant } : {}) });
  let shared: SharedStatsDecoder | undefined;
  try {
    for (const name of names) {
      const spec = pack.manifest.components[name];
      const path = join(pack.dir, spec.file);
      if (name === 'vaeDecoder' && options.sharedStatsDecoder) {
        let rewritten: ReturnType<typeof rewriteGroupNormForSharedStats> | undefined;
        try {
          rewritten = rewriteGroupNormForSharedStats(await readFile(path));
        } catch (e) {
          shared = { unavailable: (e as Error).message };
        }
        if (rewritten) {
          const session = await open(rewritten.bytes, `${pack.manifest.id}/${spec.file} (shared GroupNorm statistics)`, sharedStatsSignature(spec, rewritten.layers));
          opened.push(session);
          shared = { session, layers: rewritten.layers };
          continue;
        }
      }
      opened.push(await open(path, `${pack.manifest.id}/${spec.file}`, spec, name === 'unet' ? denoiserVariant(path, runtime, options.precision) : undefined));
    }
    const [textEncoder, unet, vaeDecoder, vocoder] = opened;
    return new AudioLdmModel(pack.manifest, { textEncoder, unet, vaeDecoder, vocoder }, await loadTokenizer(pack), shared);
  } catch (e) {
    await Promise.all(opened.map((s) => s.dispose()));
    throw e;
  }
}

/**
 * Opens the sessions of a verified stable-audio-3 pack. Each graph's own input names are checked against the
 * known contract variants before its manifest entry (research/stableaudio.md §4.2, §4.5), so a bundle of an unknown
 * variant is reported with the expected and found names; closes whatever opened if one fails.
 */
export async function openStableAudio3Model(pack: VerifiedPack<StableAudio3Manifest>, options: OpenModelOptions): Promise<StableAudio3Model> {
  const { manifest } = pack;
  const opened: ModelSession[] = [];
  const runtime = await runtimeFor(options);
  const names = (a: ActualSignature): GraphNames => ({ inputs: a.inputs.map((t) => t.name), outputs: a.outputs.map((t) => t.name) });
  const open = async (spec: ComponentSpec, inspect: (graph: string, n: GraphNames) => unknown, denoiser = false): Promise<ModelSession> => {
    const name = `${manifest.id}/${spec.file}`;
    const path = join(pack.dir, spec.file);
    const session = await openSession(path, {
      name,
      device: options.device,
      intraOpThreads: options.intraOpThreads,
      platform: process.platform,
      installed: runtime.installed,
      ...(runtime.auto ? { auto: runtime.auto } : {}),
      expected: spec,
      inspect: (actual) => void inspect(name, names(actual)),
      ...(denoiser ? { variant: denoiserVariant(path, runtime, options.precision) } : {}),
    });
    opened.push(session);
    return session;
  };
  try {
    const c = manifest.components;
    const textEncoder = await open(c.textEncoder, detectTextEncoder);
    const numberConditioner = c.numberConditioner ? await open(c.numberConditioner, detectNumberConditioner) : undefined;
    const dit = await open(c.dit, detectDitVariant, true);
    const decoder = await open(c.decoder, detectDecoder);
    const tokenizer = await loadTokenizer(pack);
    const padding = await loadPaddingEmbedding(pack);
    return new StableAudio3Model(manifest, { textEncoder, ...(numberConditioner ? { numberConditioner } : {}), dit, decoder }, tokenizer, padding);
  } catch (e) {
    await Promise.all(opened.map((s) => s.dispose()));
    throw e;
  }
}

/**
 * The pack's learned padding embedding (`text.paddingEmbedding`): a JSON array of `hiddenSize` finite numbers, or
 * an object holding exactly one such array (e.g. `{ "padding_embedding": [...] }`).
 */
export async function loadPaddingEmbedding(pack: VerifiedPack<StableAudio3Manifest>): Promise<Float32Array | undefined> {
  const spec = pack.manifest.text.paddingEmbedding;
  if (!spec) return undefined;
  const where = `model pack '${pack.manifest.id}': ${spec.file}`;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(pack.dir, spec.file), 'utf8'));
  } catch (e) {
    throw new PackError(`${where} is not valid JSON (${(e as Error).message}); reinstall the pack`);
  }
  const arrays = Array.isArray(json) ? [json] : json !== null && typeof json === 'object' ? Object.values(json).filter(Array.isArray) : [];
  const H = pack.manifest.text.hiddenSize;
  if (arrays.length !== 1) throw new PackError(`${where} must hold one array of ${H} numbers (the learned padding embedding); found ${arrays.length} arrays`);
  const values = arrays[0] as unknown[];
  if (values.length !== H || !values.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new PackError(`${where} must be ${H} finite numbers (text.hiddenSize); it has ${values.length} entries${values.every((x) => typeof x === 'number') ? '' : ', not all numbers'}`);
  }
  return Float32Array.from(values as number[]);
}
