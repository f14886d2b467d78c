/**
 * The export's view of a project: each region plays its active take from its `takeOffset`, each stem carries its
 * regions' prompts and generation parameters as metadata. Used by `npm run render` and the studio's export jobs.
 */
import { ProjectError, type ProjectDocument, type Region, type TakeRef } from '../../contract/project.ts';
import { projectPaths } from '../projects/layout.ts';
import { readTakeAudio } from '../projects/take-audio.ts';
import type { DecodedWav } from '../wav.ts';
import type { ExportTrack } from './types.ts';

/**
 * The export's view of a project: each region plays its active take from its `takeOffset`; each stem carries its
 * regions' prompts and generation parameters as metadata. Regions without a take are an error, or silent when
 * `skipMissing` (the studio warns about them before it exports). Every take is read from inside the project and
 * checked before anything renders (projects/take-audio.ts, plus enough frames for its region): a missing, damaged
 * or linked-out take fails with a ProjectError naming the track, the region (prompt and time) and the file.
 */
export async function exportTracks(doc: ProjectDocument, dir: string, options: { skipMissing?: boolean } = {}): Promise<ExportTrack[]> {
  const paths = projectPaths(dir);
  const decoded = new Map<string, Promise<DecodedWav>>();
  const load = (take: TakeRef) => {
    let wav = decoded.get(take.file);
    if (!wav) {
      wav = readTakeAudio(paths, take);
      decoded.set(take.file, wav);
    }
    return wav;
  };
  return Promise.all(
    doc.tracks.map(async (track) => {
      const regions = track.regionIds.map((id) => doc.regions[id]).sort((a, b) => a.start - b.start);
      const playing = regions.filter((r) => r.activeTakeId !== null || !options.skipMissing);
      const generation = playing.map((r) => {
        const take = r.takes.find((t) => t.id === r.activeTakeId);
        return { start: r.start, end: r.end, prompt: r.prompt, negativePrompt: r.negativePrompt, seed: take?.seed ?? null, parameters: take?.parameters ?? null };
      });
      return {
        name: track.name,
        volumeDb: track.volumeDb,
        pan: track.pan,
        mute: track.mute,
        solo: track.solo,
        stem: track.stem,
        metadata: { track: track.name, generation: JSON.stringify(generation) },
        regions: await Promise.all(
          playing.map(async (r) => {
            const where = `Cannot export track "${track.name}", region "${shortPrompt(r.prompt)}" (${seconds(r.start)}–${seconds(r.end)} s)`;
            const take = r.takes.find((t) => t.id === r.activeTakeId);
            if (!take) throw new ProjectError('invalid-argument', `${where}: it has no active take; generate it first.`);
            const wav = await load(take).catch((e: unknown) => {
              throw e instanceof ProjectError ? new ProjectError(e.code, `${where}: ${e.message} ${TAKE_FIX}`, [], { cause: e }) : e;
            });
            checkFramesFor(r, take, wav, where);
            return {
              start: r.start,
              duration: r.end - r.start,
              takeOffset: r.takeOffset ?? 0,
              gainDb: r.gainDb,
              fadeIn: r.fadeIn,
              fadeOut: r.fadeOut,
              audio: { sampleRate: wav.sampleRate, channels: wav.channels },
            };
          }),
        ),
      };
    }),
  );
}

const TAKE_FIX = 'Regenerate the region (or make another of its takes active); nothing was exported.';

/**
 * The file must hold the part of the take its region plays. A region may reach past the end of its take (it plays
 * silence there: Region.takeOffset), so only the part within the take's recorded length counts; one frame of
 * rounding is allowed.
 */
function checkFramesFor(r: Region, take: TakeRef, wav: DecodedWav, where: string): void {
  const rate = wav.sampleRate;
  const frames = wav.channels[0].length;
  const from = r.takeOffset ?? 0;
  const to = Math.min(from + (r.end - r.start), take.seconds);
  if (to <= from || frames + 1 >= Math.ceil(to * rate)) return;
  throw new ProjectError(
    'corrupt',
    `${where}: its take file ${take.file} holds ${seconds(frames / rate)} s of audio but the region plays ` +
      `${seconds(from)}–${seconds(to)} s of this ${seconds(take.seconds)} s take; the file is incomplete. ${TAKE_FIX}`,
  );
}

/** Seconds for messages: at most two decimals, no trailing zeros. */
function seconds(value: number): string {
  return String(Number(value.toFixed(2)));
}

function shortPrompt(prompt: string): string {
  return prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt;
}
