/**
 * Entry of the engine worker process (forked by engine-worker.ts). Holds the models (ONNX sessions, cached per
 * model, device and thread count) and runs one generation job at a time; everything it produces is written to the
 * project's `takes/` and `peaks/` and announced to the host. It never touches project.json.
 */
import type { ApiError, JobStage } from '../../contract/api.ts';
import { ProjectError, type RegionId } from '../../contract/project.ts';
import { computePeaks } from '../../engine/audio/peaks.ts';
import type { LatentDiffusionModel } from '../../engine/families/model.ts';
import type { Progress } from '../../engine/pipelines/text-to-audio.ts';
import { generatePiece, modelFor, piecesOf } from '../render.ts';
import { checkPackLoads } from '../packs/check.ts';
import type { CheckPackMessage, FromWorker, RunMessage, ToWorker } from './protocol.ts';

const STAGE: Record<Progress['stage'], JobStage> = { encode: 'encoding', denoise: 'denoising', decode: 'decoding', vocode: 'decoding' };

const models = new Map<string, LatentDiffusionModel>();
let current: { jobId: string; abort: AbortController } | null = null;

/** Where messages to the host go: Node's IPC channel, or (in Electron) the MessagePort main handed us. */
let send: (message: FromWorker) => void = (message) => process.send?.(message);

function apiError(e: unknown, cancelled: boolean): ApiError {
  const message = e instanceof Error ? e.message : String(e);
  if (cancelled) return { code: 'cancelled', message: 'cancelled' };
  if (e instanceof ProjectError) return { code: e.code, message };
  const code: unknown = e !== null && typeof e === 'object' && 'code' in e ? e.code : undefined;
  if (code === 'not-found' || code === 'invalid-argument') return { code, message };
  return { code: 'model-error', message };
}

async function run(m: RunMessage): Promise<void> {
  const abort = new AbortController();
  current = { jobId: m.jobId, abort };
  try {
    const track = m.document.tracks.find((t) => t.id === m.trackId);
    if (!track) throw new ProjectError('not-found', `track '${m.trackId}' is not in the project`);
    const wanted = new Set<RegionId>(m.regionIds.length > 0 ? m.regionIds : track.regionIds);
    const missing = [...wanted].filter((id) => !track.regionIds.includes(id));
    if (missing.length > 0) throw new ProjectError('not-found', `region(s) ${missing.join(', ')} are not on track '${track.name}'`);
    const pieces = piecesOf(m.document, track).filter((piece) => piece.regions.some((r) => wanted.has(r.id)));
    for (const piece of pieces) {
      send({ type: 'progress', jobId: m.jobId, stage: 'loading', step: 0, steps: 0 });
      // Sessions are cached per model, device and thread count: a settings change opens fresh ones.
      const device = m.modelDevices[piece.regions[0].generation.model] ?? m.device;
      const key = `${piece.regions[0].generation.model}|${device}|${m.intraOpThreads ?? 'auto'}`;
      let model = models.get(key);
      if (!model) {
        model = await modelFor(piece.regions[0].generation.model, new Map(), { device, ...(m.cacheDir ? { cacheDir: m.cacheDir } : {}), ...(m.modelsDir ? { modelsDir: m.modelsDir } : {}), ...(m.intraOpThreads === null ? {} : { intraOpThreads: m.intraOpThreads }) });
        models.set(key, model);
      }
      const origin = piece.regions[0].start;
      const sampleRate = model.manifest.audio.sampleRate;
      const { takes } = await generatePiece(m.document, piece, model, m.projectDir, {
        signal: abort.signal,
        onProgress: (p) =>
          // While decoding, step/steps count the stage's chunks (the denoiser's steps are all done by then).
          p.stage === 'decode' || p.stage === 'vocode'
            ? send({ type: 'progress', jobId: m.jobId, stage: STAGE[p.stage], step: p.chunk ?? 0, steps: p.chunks ?? 0 })
            : send({ type: 'progress', jobId: m.jobId, stage: STAGE[p.stage], step: p.step, steps: p.steps, window: p.window, windows: p.windows, eta: p.eta }),
        onAudio: (start, channels) => {
          const peaks = computePeaks(channels, m.previewSamplesPerPeak);
          send({ type: 'preview', jobId: m.jobId, start: origin + start / sampleRate, sampleRate, samplesPerPeak: m.previewSamplesPerPeak, peaks: Array.from(peaks, (x) => Math.round(x * 1e4) / 1e4) });
        },
      });
      send({ type: 'progress', jobId: m.jobId, stage: 'writing', step: 0, steps: 0 });
      send({ type: 'piece', jobId: m.jobId, takes });
    }
    send({ type: 'done', jobId: m.jobId });
  } catch (e) {
    send({ type: 'failed', jobId: m.jobId, error: apiError(e, abort.signal.aborted) });
  } finally {
    current = null;
  }
}

async function checkPack(m: CheckPackMessage): Promise<void> {
  try {
    await checkPackLoads(m.dir);
    send({ type: 'pack-checked', checkId: m.checkId });
  } catch (e) {
    send({ type: 'pack-checked', checkId: m.checkId, error: { code: 'model-error', message: e instanceof Error ? e.message : String(e) } });
  }
}

function receive(message: ToWorker): void {
  if (message.type === 'run') void run(message);
  else if (message.type === 'check-pack') void checkPack(message);
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
