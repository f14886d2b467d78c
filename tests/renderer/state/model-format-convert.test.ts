/** How the Models view words an install that converts a downloaded checkpoint (issue 13): stage, share done, time left. */
import { describe, expect, it } from 'vitest';
import { describeModelProgress, progressFraction, statusLabel, type ModelProgress } from '../../../src-renderer/state/model-format.ts';

const converting = (over: Partial<ModelProgress> = {}): ModelProgress => ({
  id: 'audioldm-s-full-v2',
  phase: 'convert',
  file: 'unet',
  bytesDone: 400,
  bytesTotal: 1000,
  bytesPerSecond: 10,
  etaSeconds: 65,
  ...over,
});

describe('conversion progress', () => {
  it('names the graph being built, the share of the conversion done and the time left', () => {
    expect(describeModelProgress(converting())).toBe('Converting the UNet · 40 % · 1 min 05 s left');
    expect(describeModelProgress(converting({ file: 'textEncoder', bytesDone: 0, etaSeconds: null }))).toBe('Converting the text encoder · 0 %');
    expect(describeModelProgress(converting({ file: 'write', bytesDone: 1000, etaSeconds: 0 }))).toBe('Converting: writing the pack · 100 % · less than a second left');
    expect(describeModelProgress(converting({ file: '', bytesTotal: null, etaSeconds: null }))).toBe('Converting');
  });

  it('fills the bar again from 0 after the download, and the badge says Converting', () => {
    expect(progressFraction(converting())).toBe(0.4);
    expect(statusLabel('available', true, 'convert')).toBe('Converting');
    expect(statusLabel('partial', true, 'download')).toBe('Downloading');
    expect(statusLabel('available', false, 'convert')).toBe('Available');
  });
});
