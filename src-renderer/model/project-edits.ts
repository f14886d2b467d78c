/**
 * Edits of the project as a whole: its name, tempo (the bars:beats grid), export sample rate and the defaults new
 * regions take (model, long-form method, transition). Each is one undoable Edit like any other.
 */
import { LIMITS } from '../../src-main/contract/generation-settings.ts';
import type { LongformMethod, ProjectDocument } from '../../src-main/contract/project.ts';
import { EditError, makeEdit, requireInRange, requireLimit, requireText, type Edit } from './edit-core.ts';
import { METHODS } from './region-fields.ts';

/** Export sample rates offered (the project schema accepts 8 kHz … 384 kHz). */
export const PROJECT_SAMPLE_RATES = [16000, 22050, 32000, 44100, 48000, 88200, 96000] as const;

/** Fields of the project a user may change. */
export interface ProjectFieldsPatch {
  name?: string;
  /** Beats per minute, 1 … 999. */
  tempo?: number;
  /** Export rate, Hz. */
  sampleRate?: number;
  defaultModel?: string;
  defaultMethod?: LongformMethod;
  /** Seconds, LIMITS.transition (0 … 600). */
  defaultTransition?: number;
}

const LABELS: Record<keyof ProjectFieldsPatch, string> = {
  name: 'Rename project',
  tempo: 'Change tempo',
  sampleRate: 'Change sample rate',
  defaultModel: 'Change default model',
  defaultMethod: 'Change default method',
  defaultTransition: 'Change default transition',
};

/** Applies `patch`; refuses values outside the document's limits with the allowed range. */
export function setProjectFields(doc: ProjectDocument, patch: ProjectFieldsPatch): Edit {
  const keys = Object.keys(patch) as (keyof ProjectFieldsPatch)[];
  const name = patch.name === undefined ? undefined : requireText(patch.name, 'Project name', 256, true).trim();
  const tempo = patch.tempo === undefined ? undefined : requireInRange(patch.tempo, 'Tempo (BPM)', 1, 999);
  const sampleRate = patch.sampleRate === undefined ? undefined : requireInRange(patch.sampleRate, 'Sample rate (Hz)', 8000, 384000, true);
  const transition = patch.defaultTransition === undefined ? undefined : requireLimit(patch.defaultTransition, 'Default transition (s)', LIMITS.transition);
  if (patch.defaultModel !== undefined && !/^[a-z0-9][a-z0-9._-]*$/.test(patch.defaultModel)) {
    throw new EditError(`Default model '${patch.defaultModel}' is not a model id; pick one from the list.`);
  }
  if (patch.defaultMethod !== undefined && !METHODS.includes(patch.defaultMethod)) {
    throw new EditError(`Default method must be one of ${METHODS.join(', ')}, got ${String(patch.defaultMethod)}; pick one from the list.`);
  }
  const label = keys.length === 1 ? LABELS[keys[0]] : 'Change project settings';
  return makeEdit(doc, label, (draft) => {
    if (name !== undefined) draft.name = name;
    if (tempo !== undefined) draft.tempo = tempo;
    if (sampleRate !== undefined) draft.sampleRate = sampleRate;
    if (patch.defaultModel !== undefined) draft.settings.defaultModel = patch.defaultModel;
    if (patch.defaultMethod !== undefined) draft.settings.defaultMethod = patch.defaultMethod;
    if (transition !== undefined) draft.settings.defaultTransition = transition;
  });
}
