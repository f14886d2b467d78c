/**
 * Entry of the engine worker process (forked by engine-worker.ts). Holds the models (ONNX sessions, cached per
 * model, device and thread count) and runs the pieces the host planned (generation/plan.ts), one job at a time;
 * the takes it cuts are written to the project's `takes/` and `peaks/` and their records sent to the host. It never
 * sees or touches project.json.
 */
import type { JobStage } from '../../contract/api.ts';
import { CodedError, errorMessage, toApiError } from '../../contract/errors.ts';
import { computePeaks } from '../../engine/audio/peaks.ts';
import type { Progress } from '../../engine/pipelines/text-to-audio.ts';
import { ModelCache } from '../generation/model-cache.ts';
import { projectTakeWriter, runPiece } from '../generation/run-piece.ts';
import { convertDiffusersAudioLdm } from '../models/convert/audioldm.ts';
import { checkPackLoads } from '../packs/check.ts';
import type { CheckPackMessage, ConvertAudioLdmMessage, FromWorker, RunMessage, ToWorker } from './protocol.ts';

const STAGE: Record<Progress['stage'], JobStage> = { encode: 'encoding', denoise: 'denoising', decode: 'decoding', vocode: 'decoding' };

/** Open models for the worker's lifetime (per pack source; the host's folders do not change while it runs). */
const caches = new Map<string, ModelCache>();
let current: { jobId: string; abort: AbortController } | null = null;

/** Where messages to the host go: Node's IPC channel, or (in Electron) the MessagePort main handed us. */
let send: (message: FromWorker) => void = (message) => process.send?.(message);

function cacheFor(m: RunMessage): ModelCache {
  const key = `${m.cacheDir ?? ''}|${m.modelsDir ?? ''}`;
  let cache = caches.get(key);
  if (!cache) {
    cache = new ModelCache({ ...(m.cacheDir ? { cacheDir: m.cacheDir } : {}), ...(m.modelsDir ? { modelsDir: m.modelsDir } : {}) });
    caches.set(key, cache);
  }
  return cache;
}

async function run(m: RunMessage): Promise<void> {
  const abort = new AbortController();
  current = { jobId: m.jobId, abort };
  try {
    const write = projectTakeWriter(m.projectDir);
    for (const { job, device } of m.pieces) {
      send({ type: 'progress', jobId: m.jobId, stage: 'loading', step: 0, steps: 0 });
      // Sessions are cached per model, device and thread count: a settings change opens fresh ones.
      const model = await cacheFor(m).open(job.modelId, { device, ...(m.intraOpThreads === null ? {} : { intraOpThreads: m.intraOpThreads }), ...(m.devicePrecision ? { precision: m.devicePrecision } : {}) });
      const sampleRate = model.manifest.audio.sampleRate;
      const { takes } = await runPiece(model, job, write, {
        signal: abort.signal,
        onProgress: (p) =>
          // While decoding, step/steps count the stage's chunks (the denoiser's steps are all done by then).
          p.stage === 'decode' || p.stage === 'vocode'
            ? send({ type: 'progress', jobId: m.jobId, stage: STAGE[p.stage], step: p.chunk ?? 0, steps: p.chunks ?? 0 })
            : send({ type: 'progress', jobId: m.jobId, stage: STAGE[p.stage], step: p.step, steps: p.steps, window: p.window, windows: p.windows, eta: p.eta }),
        onAudio: (start, channels) => {
          // Only what becomes takes is previewed: a piece in context also decodes the neighbours it continues.
          const from = Math.max(start, Math.round(Math.min(...job.slices.map((x) => x.start)) * sampleRate));
          const to = Math.min(start + (channels[0]?.length ?? 0), Math.round(Math.max(...job.slices.map((x) => x.end)) * sampleRate));
          if (to <= from) return;
          const peaks = computePeaks(channels.map((c) => c.subarray(from - start, to - start)), m.previewSamplesPerPeak);
          send({ type: 'preview', jobId: m.jobId, start: job.origin + from / sampleRate, sampleRate, samplesPerPeak: m.previewSamplesPerPeak, peaks: Array.from(peaks, (x) => Math.round(x * 1e4) / 1e4) });
        },
      });
      send({ type: 'progress', jobId: m.jobId, stage: 'writing', step: 0, steps: 0 });
      send({ type: 'piece', jobId: m.jobId, takes });
    }
    send({ type: 'done', jobId: m.jobId });
  } catch (e) {
    send({ type: 'failed', jobId: m.jobId, error: toApiError(e, { cancelled: abort.signal.aborted, fallback: 'model-error' }) });
  } finally {
    current = null;
  }
}

async function checkPack(m: CheckPackMessage): Promise<void> {
  try {
    await checkPackLoads(m.dir);
    send({ type: 'pack-checked', checkId: m.checkId });
  } catch (e) {
    send({ type: 'pack-checked', checkId: m.checkId, error: { code: 'model-error', message: errorMessage(e) } });
  }
}

async function convertAudioLdm(m: ConvertAudioLdmMessage): Promise<void> {
  const { convertId } = m;
  try {
    const result = await convertDiffusersAudioLdm(m.sourceDir, m.outDir, { ...m.options, onProgress: (stage, done, total) => send({ type: 'convert-progress', convertId, stage, done, total }) });
    send({ type: 'converted', convertId, result: { pack: { dir: result.pack.dir, manifest: result.pack.manifest }, warnings: result.warnings } });
  } catch (e) {
    // The code only of a coded error, so that the host's callers map the failure as they would in-process.
    send({ type: 'converted', convertId, error: { ...(e instanceof CodedError ? { code: e.code } : {}), message: errorMessage(e) } });
  }
}

function receive(message: ToWorker): void {
  if (message.type === 'run') void run(message);
  else if (message.type === 'check-pack') void checkPack(message);
  else if (message.type === 'convert-audioldm') void convertAudioLdm(message);
  else if (message.type === 'cancel' && current?.jobId === message.jobId) current.abort.abort();
}

/** The MessagePort side of Electron's MessagePortMain that this file uses. */
interface PortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
}
interface ParentPortLike {
  once(event: 'message', listener: (event: { ports: PortLike[] }) => void): unknown;
}

const parentPort = Reflect.get(process, 'parentPort') as ParentPortLike | undefined;
if (parentPort) {
  // Electron utility process: main sends one message carrying our port to the engine host.
  parentPort.once('message', ({ ports }) => {
    const port = ports[0];
    if (!port) process.exit(1);
    send = (message) => port.postMessage(message);
    port.on('message', ({ data }) => receive(data as ToWorker));
    // NOTE: the host's end closing (it exited or disposed us) ends this process, sessions and all.
    port.on('close', () => process.exit(0));
    port.start();
    send({ type: 'ready' });
  });
} else {
  process.on('message', (message: ToWorker) => receive(message));
  // NOTE: the host closing the IPC channel (it exited or disposed us) ends this process, sessions and all.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
