/**
 * `npm run bench:longform -- --vae-decode [--durations 30,180]`: VAE decode time of each mode on one latent (issue 12
 * §3), and for pieces short enough to decode in one pass, the seam step at the decode joins (SSZ of the vocoded
 * audio) and the log-mel RMS error against that one-pass decode. The latent alternates quiet and loud stretches of
 * 450 frames, so per-chunk statistics differ between chunks (tests/engine/longform/decode.test.ts's layout).
 */
import { seamReport } from '../engine/audio/seams.ts';
import { logMel } from '../engine/audio/spectral.ts';
import { vaeGeometryOf, vocoderGeometryOf } from '../engine/families/audioldm/decode.ts';
import type { AudioLdmModel } from '../engine/families/audioldm/model.ts';
import { decodeChunked, decodePlanFor, vocodeChunked } from '../engine/longform/decode.ts';
import { decodeWithEstimatedStats, decodeWithSharedStats } from '../engine/longform/vae-shared-stats.ts';
import { createRng } from '../engine/tensor/rng.ts';
import { f32, type F32 } from '../engine/tensor/tensor.ts';
import { resolvePack } from '../host/packs/builtin.ts';
import { openAudioLdmModel } from '../host/packs/load.ts';

/** Longest piece also decoded in one pass for the quality columns (one pass holds every activation of the piece). */
const ONE_PASS_MAX_SECONDS = 60;

/**
 * A latent [1, 8, T, 16] of quiet and loud stretches of `stretch` frames, seed 5: chunks around a decode join hold
 * different mixes of the two, so per-chunk GroupNorm statistics put the same frames at different levels (the bench's
 * and the decode tests' case).
 */
export function loudAndQuiet(total: number, stretch = 450): F32 {
  const rng = createRng(5, 0);
  const x = new Float32Array(8 * total * 16);
  for (let c = 0; c < 8; c++) {
    for (let t = 0; t < total; t++) {
      const loud = Math.floor(t / stretch) % 2 === 1;
      for (let f = 0; f < 16; f++) x[(c * total + t) * 16 + f] = loud ? 1.5 * rng.normal() + 0.8 : 0.4 * rng.normal() - 0.3;
    }
  }
  return f32(x, [1, 8, total, 16]);
}

/** Prints the table; `durations` in seconds. */
export async function vaeDecodeStudy(modelId: string, durations: readonly number[]): Promise<number> {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const pack = await resolvePack(modelId);
  let t0 = performance.now();
  const original = await openAudioLdmModel(pack, { device: 'cpu' });
  const openOriginal = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const rewritten = await openAudioLdmModel(pack, { device: 'cpu', sharedStatsDecoder: true });
  const openRewritten = (performance.now() - t0) / 1000;
  try {
    const shared = rewritten.sharedStatsDecoder;
    if (!shared || !('session' in shared)) throw new Error(`model '${modelId}' has no shared-statistics decoder (${shared && 'unavailable' in shared ? shared.unavailable : 'not opened'}); pick a model whose VAE has GroupNorm`);
    const { session, layers } = shared;
    const graph = { name: session.name, inputs: session.signature.inputs.map((t) => t.name), outputs: session.signature.outputs.map((t) => t.name) };
    const run = (feeds: Parameters<typeof session.run>[0]) => session.run(feeds);
    const geometry = vaeGeometryOf(rewritten.manifest);
    const { core } = geometry;
    const halo = rewritten.manifest.decode.vaeHaloLatentFrames;
    const fps = rewritten.manifest.latent.framesPerSecond;
    const vocode = (m: AudioLdmModel, mel: F32): Promise<Float32Array> => vocodeChunked((x, offset) => m.vocode(x, offset), mel, vocoderGeometryOf(m.manifest));
    out(`VAE decode modes - ${modelId}, CPU (ORT default threads), latent of quiet/loud 450-frame stretches`);
    out(`open: ${openOriginal.toFixed(2)} s with the original VAE, ${openRewritten.toFixed(2)} s with the rewrite in its place (${layers.length} GroupNorms)`);
    out('');
    out('| audio | mode | VAE runs | decode s | SSZ at decode joins | log-mel RMS error vs one pass (dB) |');
    out('|---|---|---|---|---|---|');
    const modes: Array<[string, (latent: F32, onRun: () => void) => Promise<F32>]> = [
      ['window (original VAE)', (l, onRun) => decodeChunked((x) => original.decode(x), l, geometry, { onChunk: onRun })],
      ['window (rewrite, o = 1)', (l, onRun) => decodeChunked((x) => rewritten.decode(x), l, geometry, { onChunk: onRun })],
      ['estimated', (l, onRun) => decodeWithEstimatedStats(run, graph, layers, l, geometry, { onProgress: onRun })],
      ['shared', (l, onRun) => decodeWithSharedStats(run, graph, layers, l, { core, halo, onProgress: onRun })],
    ];
    for (const seconds of durations) {
      const total = rewritten.latentFramesFor(seconds);
      const latent = loudAndQuiet(total);
      const joins = decodePlanFor(geometry, total).chunks.slice(1).map((c) => c.keepStart / fps);
      const reference = seconds <= ONE_PASS_MAX_SECONDS ? await vocode(original, await original.decode(latent)) : undefined;
      const referenceMel = reference ? logMel(reference, rewritten.manifest.audio.sampleRate).data : undefined;
      if (reference) out(`| ${seconds} s | one pass | 1 | | ${seamReport(reference, rewritten.manifest.audio.sampleRate, joins).ssz?.toFixed(2) ?? '–'} | 0 |`);
      for (const [label, decode] of modes) {
        let runs = 0;
        const started = performance.now();
        const mel = await decode(latent, () => runs++);
        const decodeSeconds = (performance.now() - started) / 1000;
        let quality = '| | |';
        if (referenceMel) {
          const audio = await vocode(rewritten, mel);
          const S = logMel(audio, rewritten.manifest.audio.sampleRate).data;
          let e = 0;
          for (let i = 0; i < S.length; i++) e += (S[i] - referenceMel[i]) ** 2;
          quality = `| ${seamReport(audio, rewritten.manifest.audio.sampleRate, joins).ssz?.toFixed(2) ?? '–'} | ${Math.sqrt(e / S.length).toFixed(2)} |`;
        }
        out(`| ${seconds} s | ${label} | ${runs} | ${decodeSeconds.toFixed(2)} ${quality}`);
      }
    }
  } finally {
    await original.dispose();
    await rewritten.dispose();
  }
  return 0;
}
