/**
 * Snapping: a dragged time jumps to the nearest grid line or region edge ("magnet") within a threshold measured in
 * pixels, so it feels the same at every zoom. Edges beat grid lines at equal distance: touching a neighbour exactly
 * matters more than landing on a beat.
 */
import type { ProjectDocument, RegionId } from '../../src-main/contract/project.ts';
import type { View } from './time.ts';

/** What a time may snap to. */
export interface SnapOptions {
  /** Off while the user holds the bypass modifier. */
  enabled: boolean;
  /** Grid spacing in seconds (lines at whole multiples from 0); null for no grid. */
  grid: number | null;
  /** Region edges and other magnets, in seconds. */
  edges: number[];
  /** How far a candidate may be from `t` to win; see `snapThreshold`. */
  thresholdSeconds: number;
}

/** The snapped time and what it snapped to (null: `t` unchanged). */
export interface SnapResult {
  time: number;
  snappedTo: 'grid' | 'edge' | null;
}

/** The nearest grid line or edge within the threshold, else `t` itself. */
export function snapTime(t: number, options: SnapOptions): SnapResult {
  if (!options.enabled || !Number.isFinite(t)) return { time: t, snappedTo: null };
  let best: SnapResult = { time: t, snappedTo: null };
  let bestDistance = options.thresholdSeconds;
  for (const edge of options.edges) {
    const distance = Math.abs(edge - t);
    if (distance <= bestDistance && (best.snappedTo === null || distance < bestDistance)) {
      best = { time: edge, snappedTo: 'edge' };
      bestDistance = distance;
    }
  }
  const grid = options.grid;
  if (grid !== null && Number.isFinite(grid) && grid > 0) {
    const line = Math.round(t / grid) * grid;
    const distance = Math.abs(line - t);
    // Strictly nearer: an edge at the same distance keeps the win.
    if (distance <= options.thresholdSeconds && (best.snappedTo === null || distance < bestDistance)) {
      best = { time: line, snappedTo: 'grid' };
    }
  }
  return best;
}

/** Every region's start and end except those of `excludeIds` (the ones being dragged), plus 0; sorted, unique. */
export function regionEdges(doc: ProjectDocument, excludeIds: Iterable<RegionId>): number[] {
  const excluded = new Set<string>(excludeIds);
  const edges = new Set<number>([0]);
  for (const region of Object.values(doc.regions)) {
    if (excluded.has(region.id)) continue;
    edges.add(region.start);
    edges.add(region.end);
  }
  return [...edges].sort((a, b) => a - b);
}

/** The snapping distance in seconds that `px` screen pixels cover at this zoom. */
export function snapThreshold(view: View, px = 8): number {
  return px / view.pxPerSecond;
}
