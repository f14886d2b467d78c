/**
 * How the model manager and the inspector show models: sizes, download progress (bytes, speed, ETA), statuses,
 * what a licence allows commercially, audio formats ("44.1 kHz stereo"), and which actions a catalog row offers.
 * Pure, so the wording is unit-tested.
 */
import type { CatalogModelInfo, CatalogStatus, ModelsDiskInfo, StudioEvents } from '../../src-main/contract/api.ts';
import { formatEta } from './job-format.ts';

/** The last `modelProgress` event of an install. */
export type ModelProgress = StudioEvents['modelProgress'];

/** Bytes for people: `812 KB`, `1.4 GB` (binary multiples, as file managers on Linux and Windows show them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // 1023.6 KB rounds to "1024 KB": say "1.0 MB" instead.
  if (unit < units.length - 1 && Math.round(value) >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** A download speed: `4.2 MB/s`; empty when there is none to show yet. */
export function formatSpeed(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return '';
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** The time a download still needs: `1 min 05 s left`; empty when unknown. */
export function formatDownloadEta(etaSeconds: number | null): string {
  if (etaSeconds === null || !Number.isFinite(etaSeconds) || etaSeconds < 0) return '';
  if (etaSeconds < 1) return 'less than a second left';
  return `${formatEta(etaSeconds)} left`;
}

/** The share of the download done, 0…1; null when the total is unknown (the bar is then indeterminate). */
export function progressFraction(p: Pick<ModelProgress, 'bytesDone' | 'bytesTotal'>): number | null {
  if (p.bytesTotal === null || !(p.bytesTotal > 0)) return null;
  const f = p.bytesDone / p.bytesTotal;
  return Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0;
}

/** What a checkpoint converter is doing, by the stage it reports (graph names of the audioldm contract). */
const CONVERT_STAGES: Readonly<Record<string, string>> = {
  textEncoder: 'the text encoder',
  unet: 'the UNet',
  vaeDecoder: 'the VAE decoder',
  vocoder: 'the vocoder',
  write: 'writing the pack',
};

/**
 * The line under an install's bar: "412 MB of 1.4 GB · 12 MB/s · 1 min 05 s left" while downloading, "Verifying
 * unet.onnx · 40 %" while checking hashes, "Converting the UNet · 40 % · 1 min 05 s left" while a downloaded
 * checkpoint becomes a pack, "Installing…" at the end.
 */
export function describeModelProgress(p: ModelProgress): string {
  if (p.phase === 'install') return 'Installing…';
  const fraction = progressFraction(p);
  if (p.phase === 'convert') {
    const stage = CONVERT_STAGES[p.file];
    const parts = [stage === undefined ? 'Converting' : stage.startsWith('writing') ? `Converting: ${stage}` : `Converting ${stage}`];
    if (fraction !== null) parts.push(`${Math.floor(fraction * 100)} %`);
    const eta = formatDownloadEta(p.etaSeconds);
    if (eta !== '') parts.push(eta);
    return parts.join(' · ');
  }
  if (p.phase === 'verify') {
    const parts = [p.file === '' ? 'Verifying' : `Verifying ${p.file}`];
    if (fraction !== null) parts.push(`${Math.floor(fraction * 100)} %`);
    return parts.join(' · ');
  }
  const parts = [p.bytesTotal === null ? formatBytes(p.bytesDone) : `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`];
  const speed = formatSpeed(p.bytesPerSecond);
  if (speed !== '') parts.push(speed);
  const eta = formatDownloadEta(p.etaSeconds);
  if (eta !== '') parts.push(eta);
  return parts.join(' · ');
}

/** A catalog size: `651 MB`, `≈ 1.5 GB` when the catalog only estimates it, `unknown`. */
export function formatSize(sizeBytes: number | null, estimate: boolean): string {
  if (sizeBytes === null) return 'unknown';
  return `${estimate ? '≈ ' : ''}${formatBytes(sizeBytes)}`;
}

/** An audio format: `44.1 kHz stereo`, `16 kHz mono`, `48 kHz 6 channels`. */
export function formatAudio(sampleRate: number, channels: number): string {
  const khz = Number((sampleRate / 1000).toFixed(2));
  const layout = channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels} channels`;
  return `${khz} kHz ${layout}`;
}

/** How a licence's commercial-use field reads, and the colour of its badge. */
export interface CommercialUse {
  label: string;
  tone: 'ok' | 'warn' | 'danger' | 'unknown';
  /** A sentence for the tooltip. */
  detail: string;
}

/** The catalog's `commercialUse` (`yes`, `no`, `limited`, absent) for people. */
export function commercialUse(value: string | undefined): CommercialUse {
  switch (value) {
    case 'yes':
      return { label: 'Yes', tone: 'ok', detail: 'The licence allows commercial use.' };
    case 'no':
      return { label: 'Non-commercial', tone: 'danger', detail: 'Non-commercial use only: the licence forbids commercial use.' };
    case 'limited':
      return { label: 'Limited', tone: 'warn', detail: 'Commercial use only under conditions: read the licence.' };
    default:
      return { label: 'Not stated', tone: 'unknown', detail: 'The pack does not say; read its licence.' };
  }
}

// A built-in pack is always ready; its "built-in" badge sits by the name.
const STATUS_LABELS: Record<CatalogStatus, string> = {
  builtin: 'Ready',
  installed: 'Installed',
  damaged: 'Damaged',
  partial: 'Partial',
  available: 'Available',
  export: 'Export only',
};

/** A catalog status for its badge; `Downloading` while an install runs (`Converting` once it converts a checkpoint). */
export function statusLabel(status: CatalogStatus, installing = false, phase?: ModelProgress['phase']): string {
  if (!installing) return STATUS_LABELS[status];
  return phase === 'convert' ? 'Converting' : 'Downloading';
}

/** What a model manager row offers. */
export type ModelAction = 'download' | 'resume' | 'cancel' | 'remove';

/**
 * The actions of a row: an install running → Cancel; a catalog model not on disk → Download; a partial download →
 * Resume or Remove; an installed, imported or damaged pack → Remove (a damaged catalog pack may also be downloaded
 * again). Built-in packs and export-only models have none (the latter come in through Import).
 */
export function modelActions(row: Pick<CatalogModelInfo, 'status' | 'origin'>, installing: boolean): ModelAction[] {
  if (installing) return ['cancel'];
  switch (row.status) {
    case 'available':
      return ['download'];
    case 'partial':
      return ['resume', 'remove'];
    case 'installed':
      return ['remove'];
    case 'damaged':
      return row.origin === 'catalog' ? ['download', 'remove'] : ['remove'];
    case 'builtin':
    case 'export':
      return [];
  }
}

/** How to get an export-only model: the host's text when it gives one, else the exporter for the family. */
export function exportInstructions(row: Pick<CatalogModelInfo, 'family' | 'problem'>): string {
  if (row.problem !== undefined && row.problem.trim() !== '') return row.problem;
  const tool = row.family === 'audioldm' ? 'tools/export-audioldm' : 'the exporter in tools/ for this family';
  return `Not downloadable: export it from the original weights with ${tool} (docs/MODELS.md), then “Import pack folder…” the exported folder.`;
}

/** The disk line after the folder: ["1.2 GB installed", "300 MB in partial downloads", "80 GB free"]. */
export function diskSummary(disk: ModelsDiskInfo): string[] {
  const parts = [`${formatBytes(disk.installedBytes)} installed`];
  if (disk.partialBytes > 0) parts.push(`${formatBytes(disk.partialBytes)} in partial downloads`);
  parts.push(disk.freeBytes === null ? 'free space unknown' : `${formatBytes(disk.freeBytes)} free`);
  return parts;
}

/** A commit id as typed or pasted: 40 hex digits, spaces around and upper case accepted; null when it is not one. */
export function normaliseCommit(text: string): string | null {
  const commit = text.trim().toLowerCase();
  return /^[0-9a-f]{40}$/.test(commit) ? commit : null;
}

/** Why a typed commit is not accepted yet, in a few words ('' when it is one, or nothing is typed). */
export function commitProblem(text: string): string {
  const t = text.trim();
  if (t === '' || normaliseCommit(t) !== null) return '';
  if (!/^[0-9a-fA-F]*$/.test(t)) return 'a commit id has only the digits 0–9 and letters a–f';
  return `${t.length} of 40 characters: paste the full commit id, not a short one or a branch name`;
}

/**
 * The commits to send for a download from what the user typed per unpinned repo (`typed`, by repo), or null while
 * one is missing or malformed. A repo whose commit was entered for this download before needs none.
 */
export function enteredRevisions(model: CatalogModelInfo, typed: Readonly<Record<string, string>>): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const repo of model.unpinned ?? []) {
    const text = typed[repo.repo] ?? '';
    if (text.trim() === '' && repo.entered !== undefined) continue;
    const commit = normaliseCommit(text);
    if (commit === null) return null;
    out[repo.repo] = commit;
  }
  return out;
}
