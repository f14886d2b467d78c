/**
 * Checks that keep ONNX Runtime's errors out of users' faces: a graph against its manifest entry at load, and
 * every feed against the graph before `run`, reporting expected vs actual per tensor (transformers.js habit).
 */
import { CodedError } from '../../contract/errors.ts';
import type { TensorSpec } from '../../contract/manifest.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A graph's inputs and outputs as the manifest declares them (and ORT confirmed). */
export interface GraphSignature {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

/** Raised when a graph's inputs or outputs differ from its manifest entry. */
export class GraphMismatchError extends CodedError<'model-error'> {
  override name = 'GraphMismatchError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('model-error', message, options);
  }
}

/** Raised when feeds do not match a graph's inputs; the message lists every tensor's expected and actual shape. */
export class FeedMismatchError extends CodedError<'model-error'> {
  override name = 'FeedMismatchError';
  constructor(message: string) {
    super('model-error', message);
  }
}

interface OrtMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: ReadonlyArray<number | string>;
}

interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly OrtMetadata[];
  readonly outputMetadata: readonly OrtMetadata[];
}

/** A loaded graph's own inputs and outputs as ONNX Runtime reports them (types as ORT names them, e.g. `bool`). */
export interface ActualSignature {
  inputs: ReadonlyArray<{ name: string; type: string; dims: ReadonlyArray<number | string> }>;
  outputs: ReadonlyArray<{ name: string; type: string; dims: ReadonlyArray<number | string> }>;
}

/** Reads a session's actual I/O (for adapters that recognise contract variants by input names). */
export function actualSignature(session: OrtSessionLike): ActualSignature {
  const list = (metadata: readonly OrtMetadata[]) => metadata.map((m) => ({ name: m.name, type: m.isTensor ? (m.type ?? '?') : 'non-tensor', dims: m.shape ?? [] }));
  return { inputs: list(session.inputMetadata), outputs: list(session.outputMetadata) };
}

const fmtDims = (dims: ReadonlyArray<number | string>): string => `[${dims.join(', ')}]`;

/** Compares the loaded graph's I/O names, dtypes and ranks (and fixed dims) with the manifest; names every mismatch. */
export function checkGraphSignature(graph: string, session: OrtSessionLike, expected: GraphSignature): GraphSignature {
  const problems: string[] = [];
  const compare = (kind: 'input' | 'output', actual: readonly OrtMetadata[], wanted: readonly TensorSpec[]): void => {
    const byName = new Map(actual.map((m) => [m.name, m]));
    for (const spec of wanted) {
      const got = byName.get(spec.name);
      if (!got) {
        problems.push(`${kind} '${spec.name}' is missing (graph has: ${actual.map((m) => m.name).join(', ') || 'none'})`);
        continue;
      }
      if (!got.isTensor || got.type !== spec.type) problems.push(`${kind} '${spec.name}': expected ${spec.type}, graph has ${got.type ?? 'a non-tensor'}`);
      const shape = got.shape ?? [];
      if (shape.length !== spec.dims.length) {
        problems.push(`${kind} '${spec.name}': expected rank ${spec.dims.length} ${fmtDims(spec.dims)}, graph has rank ${shape.length} ${fmtDims(shape)}`);
      } else {
        spec.dims.forEach((d, i) => {
          if (typeof d === 'number' && typeof shape[i] === 'number' && shape[i] !== d) {
            problems.push(`${kind} '${spec.name}': dim ${i} expected ${d}, graph has ${shape[i]}`);
          }
        });
      }
    }
    const declared = new Set(wanted.map((s) => s.name));
    for (const m of actual) if (!declared.has(m.name)) problems.push(`${kind} '${m.name}' is in the graph but not in the manifest`);
  };
  compare('input', session.inputMetadata, expected.inputs);
  compare('output', session.outputMetadata, expected.outputs);
  if (problems.length > 0) {
    throw new GraphMismatchError(
      `${graph}: the graph does not match its manifest entry:\n  - ${problems.join('\n  - ')}\n` +
        'Re-export the pack, or correct the tensor list in manifest.json.',
    );
  }
  return expected;
}

/**
 * Checks feed names, dtypes, ranks, fixed dims and that each symbolic dim (e.g. `N`, `T`) takes one value
 * across all inputs. Throws one error listing every problem with expected and actual shapes.
 */
export function checkFeeds(graph: string, signature: GraphSignature, feeds: Record<string, Tensor>): void {
  const problems: string[] = [];
  const symbols = new Map<string, { value: number; from: string }>();
  for (const spec of signature.inputs) {
    const t = feeds[spec.name];
    if (!t) {
      problems.push(`'${spec.name}': missing (expected ${spec.type} ${fmtDims(spec.dims)})`);
      continue;
    }
    const actual = `${t.type} ${fmtDims(t.dims)}`;
    const expected = `${spec.type} ${fmtDims(spec.dims)}`;
    if (t.type !== spec.type || t.dims.length !== spec.dims.length) {
      problems.push(`'${spec.name}': expected ${expected}, got ${actual}`);
      continue;
    }
    spec.dims.forEach((d, i) => {
      const got = t.dims[i];
      if (typeof d === 'number') {
        if (got !== d) problems.push(`'${spec.name}': expected ${expected}, got ${actual} (dim ${i} must be ${d})`);
        return;
      }
      const seen = symbols.get(d);
      if (seen && seen.value !== got) {
        problems.push(`'${spec.name}': expected ${expected}, got ${actual} (${d} = ${got} here but ${seen.value} in '${seen.from}')`);
      } else if (!seen) symbols.set(d, { value: got, from: spec.name });
    });
  }
  const known = new Set(signature.inputs.map((s) => s.name));
  for (const name of Object.keys(feeds)) if (!known.has(name)) problems.push(`'${name}': not an input of this graph (inputs: ${[...known].join(', ')})`);
  if (problems.length > 0) throw new FeedMismatchError(`${graph}: feeds do not match the graph's inputs:\n  - ${problems.join('\n  - ')}`);
}
