/** How the model manager words sizes, download progress (bytes, speed, ETA), licences, audio formats and actions. */
import { describe, expect, it } from 'vitest';
import type { CatalogModelInfo } from '../../../src-main/contract/api.ts';
import {
  commercialUse,
  commitProblem,
  describeModelProgress,
  enteredRevisions,
  diskSummary,
  exportInstructions,
  formatAudio,
  formatBytes,
  formatDownloadEta,
  formatSize,
  formatSpeed,
  modelActions,
  normaliseCommit,
  progressFraction,
  statusLabel,
  type ModelProgress,
} from '../../../src-renderer/state/model-format.ts';

const MB = 1024 * 1024;
const GB = 1024 * MB;
const progress = (extra: Partial<ModelProgress> = {}): ModelProgress => ({
  id: 'sa3',
  phase: 'download',
  file: 'dit.onnx',
  bytesDone: 412 * MB,
  bytesTotal: 1.4 * GB,
  bytesPerSecond: 12 * MB,
  etaSeconds: 65,
  ...extra,
});

describe('formatBytes', () => {
  it('uses binary units with one decimal below 10', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(713093)).toBe('696 KB');
    expect(formatBytes(682554572)).toBe('651 MB');
    expect(formatBytes(1.4 * GB)).toBe('1.4 GB');
    expect(formatBytes(3814000000)).toBe('3.6 GB');
  });

  it('never shows 1024 of a unit', () => {
    expect(formatBytes(1024 * 1024 - 100)).toBe('1.0 MB');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('shows a dash for what is not a size', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('formatSpeed and formatDownloadEta', () => {
  it('shows a speed per second, nothing before there is one', () => {
    expect(formatSpeed(12 * MB)).toBe('12 MB/s');
    expect(formatSpeed(850 * 1024)).toBe('850 KB/s');
    expect(formatSpeed(0)).toBe('');
    expect(formatSpeed(Number.NaN)).toBe('');
  });

  it('shows the time left, nothing when unknown', () => {
    expect(formatDownloadEta(8)).toBe('8 s left');
    expect(formatDownloadEta(65)).toBe('1 min 05 s left');
    expect(formatDownloadEta(3725)).toBe('1 h 02 min left');
    expect(formatDownloadEta(0.4)).toBe('less than a second left');
    expect(formatDownloadEta(null)).toBe('');
    expect(formatDownloadEta(-3)).toBe('');
    expect(formatDownloadEta(Number.POSITIVE_INFINITY)).toBe('');
  });
});

describe('download progress', () => {
  it('is a fraction of the known total, null when the total is unknown', () => {
    expect(progressFraction({ bytesDone: 25, bytesTotal: 100 })).toBe(0.25);
    expect(progressFraction({ bytesDone: 120, bytesTotal: 100 })).toBe(1);
    expect(progressFraction({ bytesDone: 5, bytesTotal: null })).toBeNull();
    expect(progressFraction({ bytesDone: 5, bytesTotal: 0 })).toBeNull();
  });

  it('reads bytes of total, speed and ETA while downloading', () => {
    expect(describeModelProgress(progress())).toBe('412 MB of 1.4 GB · 12 MB/s · 1 min 05 s left');
    expect(describeModelProgress(progress({ bytesTotal: null, etaSeconds: null }))).toBe('412 MB · 12 MB/s');
    expect(describeModelProgress(progress({ bytesDone: 0, bytesPerSecond: 0, etaSeconds: null }))).toBe('0 B of 1.4 GB');
  });

  it('names the checking and installing phases', () => {
    expect(describeModelProgress(progress({ phase: 'verify', bytesDone: 0.7 * GB }))).toBe('Verifying dit.onnx · 50 %');
    expect(describeModelProgress(progress({ phase: 'verify', file: '', bytesTotal: null }))).toBe('Verifying');
    expect(describeModelProgress(progress({ phase: 'install' }))).toBe('Installing…');
  });
});

describe('catalog wording', () => {
  it('marks estimated sizes', () => {
    expect(formatSize(682554572, true)).toBe('≈ 651 MB');
    expect(formatSize(713093, false)).toBe('696 KB');
    expect(formatSize(null, true)).toBe('unknown');
  });

  it('says plainly what a licence allows commercially', () => {
    expect(commercialUse('yes')).toMatchObject({ label: 'Yes', tone: 'ok' });
    expect(commercialUse('no')).toMatchObject({ label: 'Non-commercial', tone: 'danger' });
    expect(commercialUse('limited')).toMatchObject({ label: 'Limited', tone: 'warn' });
    expect(commercialUse(undefined)).toMatchObject({ label: 'Not stated', tone: 'unknown' });
  });

  it('labels statuses, a running install as downloading', () => {
    expect(statusLabel('export')).toBe('Export only');
    expect(statusLabel('builtin')).toBe('Ready');
    expect(statusLabel('partial')).toBe('Partial');
    expect(statusLabel('partial', true)).toBe('Downloading');
  });

  it('formats audio as rate and layout', () => {
    expect(formatAudio(44100, 2)).toBe('44.1 kHz stereo');
    expect(formatAudio(16000, 1)).toBe('16 kHz mono');
    expect(formatAudio(22050, 1)).toBe('22.05 kHz mono');
    expect(formatAudio(48000, 6)).toBe('48 kHz 6 channels');
  });

  it('sums up the models folder', () => {
    expect(diskSummary({ dir: '/m', installedBytes: 2 * GB, partialBytes: 0, freeBytes: 80 * GB })).toEqual(['2.0 GB installed', '80 GB free']);
    expect(diskSummary({ dir: '/m', installedBytes: 0, partialBytes: 300 * MB, freeBytes: null })).toEqual([
      '0 B installed',
      '300 MB in partial downloads',
      'free space unknown',
    ]);
  });

  it('tells how to get an export-only model: the host’s text, else the family’s exporter', () => {
    expect(exportInstructions({ family: 'audioldm', problem: 'Run tools/export-audioldm first' })).toBe('Run tools/export-audioldm first');
    expect(exportInstructions({ family: 'audioldm' })).toContain('tools/export-audioldm');
    expect(exportInstructions({ family: 'audioldm' })).toContain('Import pack folder');
    expect(exportInstructions({ family: 'other', problem: '  ' })).toContain('tools/');
  });
});

describe('modelActions', () => {
  const row = (status: CatalogModelInfo['status'], origin: CatalogModelInfo['origin'] = 'catalog') => ({ status, origin });

  it('offers what each status allows', () => {
    expect(modelActions(row('available'), false)).toEqual(['download']);
    expect(modelActions(row('partial'), false)).toEqual(['resume', 'remove']);
    expect(modelActions(row('installed'), false)).toEqual(['remove']);
    expect(modelActions(row('installed', 'import'), false)).toEqual(['remove']);
    expect(modelActions(row('damaged'), false)).toEqual(['download', 'remove']);
    expect(modelActions(row('damaged', 'import'), false)).toEqual(['remove']);
    expect(modelActions(row('builtin', 'builtin'), false)).toEqual([]);
    expect(modelActions(row('export'), false)).toEqual([]);
  });

  it('offers only Cancel while an install runs', () => {
    expect(modelActions(row('available'), true)).toEqual(['cancel']);
    expect(modelActions(row('partial'), true)).toEqual(['cancel']);
  });
});

describe('the commit of an unpinned repo, as the download dialog takes it', () => {
  const commit = '51015c9ea6184387287cdbc028ac683e58e3297c';
  const model = (unpinned: CatalogModelInfo['unpinned']): CatalogModelInfo => ({
    id: 'sfx',
    name: 'SFX',
    family: 'stable-audio-3',
    status: 'available',
    sizeBytes: 1,
    sizeIsEstimate: false,
    diskBytes: 0,
    licence: { name: 'L' },
    origin: 'catalog',
    installing: false,
    ...(unpinned ? { unpinned } : {}),
  });

  it('accepts a full id with spaces around or in upper case, and nothing shorter, longer or non-hex', () => {
    expect(normaliseCommit(`  ${commit.toUpperCase()} `)).toBe(commit);
    expect(normaliseCommit(commit.slice(0, 7))).toBeNull();
    expect(normaliseCommit(`${commit}0`)).toBeNull();
    expect(normaliseCommit('main')).toBeNull();
  });

  it('says why a typed value is not a commit yet, and nothing while the field is empty or right', () => {
    expect(commitProblem('')).toBe('');
    expect(commitProblem(commit)).toBe('');
    expect(commitProblem('51015c9')).toBe('7 of 40 characters: paste the full commit id, not a short one or a branch name');
    expect(commitProblem('main')).toBe('a commit id has only the digits 0–9 and letters a–f');
  });

  it('gives the commits to send once every unpinned repo has one; a commit entered before needs none', () => {
    expect(enteredRevisions(model(undefined), {})).toEqual({});
    const sfx = model([{ repo: 'bgkb/encoder-onnx', candidate: commit }]);
    expect(enteredRevisions(sfx, {})).toBeNull();
    expect(enteredRevisions(sfx, { 'bgkb/encoder-onnx': commit.slice(0, 12) })).toBeNull();
    expect(enteredRevisions(sfx, { 'bgkb/encoder-onnx': ` ${commit} ` })).toEqual({ 'bgkb/encoder-onnx': commit });
    const resumed = model([{ repo: 'bgkb/encoder-onnx', entered: commit }]);
    expect(enteredRevisions(resumed, { 'bgkb/encoder-onnx': '' })).toEqual({});
  });
});
