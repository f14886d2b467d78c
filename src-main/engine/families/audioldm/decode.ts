/**
 * AudioLDM latent → audio (research/longform.md §5–§6): the VAE in chunks (window mode: per-chunk statistics and a
 * log-mel crossfade; estimated mode: the same with GroupNorm statistics estimated once and shared by every chunk;
 * shared mode: the piece's exact GroupNorm statistics in every chunk), then the vocoder in chunks with
 * crop-and-stitch. The long-form decoders get the graphs as plain functions and the pack's shapes as numbers.
 */
import type { AudioLdmManifest } from '../../../contract/manifest.ts';
import { InvalidRequestError } from '../../errors.ts';
import { decodeChunked, decodePlanFor, vocodeChunked, vocodePlanFor, type LatentDecode, type MelVocode, type VaeGeometry, type VocoderGeometry } from '../../longform/decode.ts';
import { planChunks } from '../../longform/chunks.ts';
import { decodeWithEstimatedStats, decodeWithSharedStats, type SharedStatsLayer } from '../../longform/vae-shared-stats.ts';
import type { ModelSession } from '../../runtime/session.ts';
import type { F32 } from '../../tensor/tensor.ts';
import type { VaeDecodeMode } from '../../../contract/generation-settings.ts';
import type { DecodeAudioOptions, DecodedAudio } from '../model.ts';

/**
 * The VAE decoder rewritten so every GroupNorm takes its statistics as inputs (shared-statistics decoding,
 * research/longform.md §5.2), or why the model has none.
 */
export type SharedStatsDecoder = { session: ModelSession; layers: readonly SharedStatsLayer[] } | { unavailable: string };

/** The graphs an AudioLDM piece is decoded with. */
export interface AudioLdmDecoders {
  /** VAE decode: latent [1, C, T, Fq] → mel [1, 1, r·T, bins]. */
  decode: LatentDecode;
  /** Vocoder: mel [1, 1, F, bins] → waveform [1, hop·F + extra]. */
  vocode: MelVocode;
  /** Present when the host opened the model for shared-statistics decoding. */
  sharedStats?: SharedStatsDecoder;
}

/** The VAE's chunking geometry from the pack's manifest. */
export function vaeGeometryOf(manifest: AudioLdmManifest): VaeGeometry {
  const { latent, mel, decode } = manifest;
  return { channels: latent.channels, bins: latent.frequencyBins, melPerLatent: mel.framesPerLatentFrame, melBins: mel.bins, core: latent.nativeWindowFrames, receptiveField: decode.vaeHaloLatentFrames };
}

/** The vocoder's chunking geometry from the pack's manifest. */
export function vocoderGeometryOf(manifest: AudioLdmManifest): VocoderGeometry {
  const { mel, decode } = manifest;
  return { hop: mel.hop, extraSamples: mel.vocoderExtraSamples, melBins: mel.bins, receptiveField: decode.vocoderHaloMelFrames };
}

/** Latent [1, C, T, Fq] → mono audio, VAE then vocoder in chunks. Seams are the chunk joins, in seconds. */
export async function decodeAudioLdm(manifest: AudioLdmManifest, decoders: AudioLdmDecoders, latent: F32, options: DecodeAudioOptions): Promise<DecodedAudio> {
  const onChunk = (stage: 'decode' | 'vocode') => (chunk: number, chunks: number) => options.onProgress?.({ stage, chunk, chunks });
  const { mel, used, fallbackReason, joins } = await decodeLatent(manifest, decoders, latent, options.vaeDecode, { signal: options.signal, onChunk: onChunk('decode') });
  const vocoder = vocoderGeometryOf(manifest);
  const onAudio = options.onAudio;
  // The vocoder stage starts now (0 chunks done): the pipeline splits its decode and vocode timings here.
  options.onProgress?.({ stage: 'vocode', chunk: 0, chunks: vocodePlanFor(vocoder, mel.dims[2]).length });
  const wave = await vocodeChunked(decoders.vocode, mel, vocoder, {
    signal: options.signal,
    onChunk: onChunk('vocode'),
    ...(onAudio ? { onAudio: (start: number, samples: Float32Array) => onAudio(start, [samples]) } : {}),
  });
  return {
    channels: [wave],
    // The joins of the plan that decoded it (window and estimated: the window plan; shared: its chunks), not of the mode asked for.
    seams: { decode: joins, vocode: vocodePlanFor(vocoder, mel.dims[2]).slice(1).map((c) => (c.keepStart * manifest.mel.hop) / manifest.audio.sampleRate) },
    vaeDecode: { used, ...(fallbackReason === undefined ? {} : { fallbackReason }) },
  };
}

/** VAE decoding in the requested mode (see the pipeline's `vaeDecode`): the mel, the mode used and its chunk joins (seconds). */
async function decodeLatent(
  manifest: AudioLdmManifest,
  decoders: AudioLdmDecoders,
  latent: F32,
  mode: DecodeAudioOptions['vaeDecode'],
  options: { signal?: AbortSignal; onChunk: (done: number, total: number) => void },
): Promise<{ mel: F32; used: VaeDecodeMode; fallbackReason?: string; joins: number[] }> {
  const fps = manifest.latent.framesPerSecond;
  const frames = latent.dims[2];
  const shared = decoders.sharedStats;
  const geometry = vaeGeometryOf(manifest);
  const windowJoins = decodePlanFor(geometry, frames).chunks.slice(1).map((c) => c.keepStart / fps);
  const windowed = async (fallbackReason?: string) => ({
    mel: await decodeChunked(decoders.decode, latent, geometry, options),
    used: 'window' as const,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    joins: windowJoins,
  });
  if (mode === 'window') return windowed();
  // A decoder without GroupNorm has no per-chunk statistics to disagree about: window decoding is already exact.
  if (shared && 'unavailable' in shared) return windowed(`${mode === 'shared' ? 'shared' : 'estimated'}-statistics decoding is not available for this model (${shared.unavailable}); decoded in windows`);
  if (!shared) {
    throw new InvalidRequestError('vaeDecode', mode, `${mode === 'shared' ? 'shared' : 'estimated'}-statistics decoding needs the model opened with it (the host's sharedStatsDecoder option)`);
  }
  const { session, layers } = shared;
  const graph = { name: session.name, inputs: session.signature.inputs.map((t) => t.name), outputs: session.signature.outputs.map((t) => t.name) };
  const run = (feeds: Parameters<typeof session.run>[0]) => session.run(feeds);
  if (mode === 'estimated') {
    const mel = await decodeWithEstimatedStats(run, graph, layers, latent, geometry, { signal: options.signal, onProgress: options.onChunk });
    return { mel, used: 'estimated', joins: windowJoins };
  }
  const core = manifest.latent.nativeWindowFrames;
  const halo = manifest.decode.vaeHaloLatentFrames;
  const mel = await decodeWithSharedStats(run, graph, layers, latent, { core, halo, signal: options.signal, onProgress: options.onChunk });
  return { mel, used: 'shared', joins: planChunks(frames, core, halo).slice(1).map((c) => c.keepStart / fps) };
}
