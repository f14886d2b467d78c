/**
 * The I/O contract variants of Stable Audio 3 ONNX bundles, recognised by graph input names
 * (research/stableaudio.md §4.2, §4.5; the Electron port of §4.6 tells its bundles apart the same way).
 *
 * | graph              | community bundle (lsb, bgkb sfx; §4.2)                               | official export (§4.5)                                   |
 * |--------------------|-----------------------------------------------------------------------|----------------------------------------------------------|
 * | text encoder       | input_ids, attention_mask → last_hidden_state [1, 256, 768]           | input_ids, attention_mask → hidden_states                |
 * | number conditioner | seconds [1] → embedding [1, 1, 768]                                   | none: baked into the DiT                                 |
 * | DiT                | x, t, cross_attn_cond, global_embed, local_add_cond, padding_mask      | x, t, t5_hidden, t5_mask, seconds_total, local_add_cond  |
 * | decoder            | latents → audio f32 [1, 2, 4096·T] (planar L, R)                      | latent → audio, or pcm int32 [1, 4096·T, 2] (×32768)      |
 *
 * Output names are not pinned down by the notes (§4.2 lists shapes, the ports read the first output), so a graph's
 * single output is used whatever its name; a graph with several outputs must name the expected one. Anything else
 * is refused with a {@link Sa3ContractError} that lists what was found and what each known variant expects.
 */
import { GraphMismatchError } from '../../runtime/validate.ts';

/** A graph's input and output names (from ONNX Runtime, or from the manifest once the graph matched it). */
export interface GraphNames {
  inputs: readonly string[];
  outputs: readonly string[];
}

/** How the DiT takes its conditioning. */
export type DitVariant = 'community' | 'official';

/** The contract of one loaded bundle: which variant each graph follows and the tensor names to use. */
export interface Sa3Contract {
  textEncoder: { hidden: string };
  /** Present for the community DiT, which takes the duration embedding as inputs. */
  numberConditioner?: { seconds: string; embedding: string };
  dit: { variant: DitVariant; output: string };
  decoder: { latents: string; output: string; layout: 'planar-float' | 'interleaved-pcm' };
}

/** A graph does not follow any known Stable Audio 3 contract; the message lists expected and found names. */
export class Sa3ContractError extends GraphMismatchError {
  override name = 'Sa3ContractError';
}

/** The DiT input sets Tessera knows. */
export const DIT_VARIANTS: ReadonlyArray<{ variant: DitVariant; source: string; inputs: readonly string[] }> = [
  { variant: 'community', source: 'community bundles, e.g. lsb/stable-audio-3-small-music-onnx', inputs: ['x', 't', 'cross_attn_cond', 'global_embed', 'local_add_cond', 'padding_mask'] },
  { variant: 'official', source: 'the official stabilityai/stable-audio-3-optimized ONNX export', inputs: ['x', 't', 't5_hidden', 't5_mask', 'seconds_total', 'local_add_cond'] },
];
const TEXT_INPUTS = ['input_ids', 'attention_mask'];
const TEXT_OUTPUTS = ['last_hidden_state', 'hidden_states'];
const NUMBER_INPUTS = ['seconds', 'seconds_total'];
const NUMBER_OUTPUTS = ['embedding'];
const DIT_OUTPUTS = ['out', 'velocity', 'v'];
const DECODER_INPUTS = ['latents', 'latent'];
const DECODER_OUTPUTS = ['audio', 'pcm'];

const list = (names: readonly string[]): string => (names.length > 0 ? names.join(', ') : 'none');
const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((n) => b.includes(n));

/** Recognises the DiT's variant from its input names; throws a Sa3ContractError naming every difference. */
export function detectDitVariant(graph: string, names: GraphNames): { variant: DitVariant; output: string } {
  const known = DIT_VARIANTS.find((d) => sameSet(d.inputs, names.inputs));
  if (known) return { variant: known.variant, output: pickOutput(graph, 'DiT', names.outputs, DIT_OUTPUTS) };
  const lines = DIT_VARIANTS.map((d) => {
    const missing = d.inputs.filter((n) => !names.inputs.includes(n));
    const extra = names.inputs.filter((n) => !d.inputs.includes(n));
    return `    ${d.variant} (${d.source}): ${list(d.inputs)}\n      missing: ${list(missing)}; unexpected: ${list(extra)}`;
  });
  throw new Sa3ContractError(
    `${graph}: the DiT's inputs match no known Stable Audio 3 contract.\n  found: ${list(names.inputs)}\n  expected one of:\n${lines.join('\n')}\n` +
      'Re-export the DiT with one of these input sets (names as listed), or report the bundle so Tessera learns its variant.',
  );
}

/** Checks the text encoder: inputs input_ids and attention_mask; returns the hidden-state output's name. */
export function detectTextEncoder(graph: string, names: GraphNames): { hidden: string } {
  expectInputs(graph, 'text encoder', names.inputs, [TEXT_INPUTS]);
  return { hidden: pickOutput(graph, 'text encoder', names.outputs, TEXT_OUTPUTS) };
}

/** Checks the number conditioner: one input `seconds` (or `seconds_total`); returns its tensor names. */
export function detectNumberConditioner(graph: string, names: GraphNames): { seconds: string; embedding: string } {
  expectInputs(graph, 'number conditioner', names.inputs, NUMBER_INPUTS.map((n) => [n]));
  return { seconds: names.inputs[0], embedding: pickOutput(graph, 'number conditioner', names.outputs, NUMBER_OUTPUTS) };
}

/** Checks the decoder: one input `latents` (or `latent`); `pcm` output means interleaved int16-scaled samples. */
export function detectDecoder(graph: string, names: GraphNames): Sa3Contract['decoder'] {
  expectInputs(graph, 'decoder', names.inputs, DECODER_INPUTS.map((n) => [n]));
  const output = pickOutput(graph, 'decoder', names.outputs, DECODER_OUTPUTS);
  return { latents: names.inputs[0], output, layout: output === 'pcm' ? 'interleaved-pcm' : 'planar-float' };
}

/**
 * The whole bundle's contract. The community DiT needs a number conditioner; the official DiT bakes the duration
 * embedding in, so a number conditioner next to it is a sign of mixed bundles and is refused.
 */
export function detectContract(
  graphs: { textEncoder: GraphNames; numberConditioner?: GraphNames; dit: GraphNames; decoder: GraphNames },
  name: (component: string) => string,
): Sa3Contract {
  const dit = detectDitVariant(name('dit'), graphs.dit);
  const contract: Sa3Contract = {
    textEncoder: detectTextEncoder(name('textEncoder'), graphs.textEncoder),
    dit,
    decoder: detectDecoder(name('decoder'), graphs.decoder),
  };
  if (dit.variant === 'community') {
    if (!graphs.numberConditioner) {
      throw new Sa3ContractError(`${name('dit')}: the community DiT takes global_embed and a duration token in cross_attn_cond, so the pack needs a number conditioner graph (components.numberConditioner: seconds → embedding [1, 1, 768]); none is declared`);
    }
    contract.numberConditioner = detectNumberConditioner(name('numberConditioner'), graphs.numberConditioner);
  } else if (graphs.numberConditioner) {
    throw new Sa3ContractError(`${name('numberConditioner')}: the official DiT embeds seconds_total itself; a separate number conditioner belongs to the community contract. Remove it from the pack, or use the community DiT`);
  }
  return contract;
}

function expectInputs(graph: string, what: string, found: readonly string[], allowed: ReadonlyArray<readonly string[]>): void {
  if (allowed.some((set) => sameSet(set, found))) return;
  throw new Sa3ContractError(
    `${graph}: the ${what}'s inputs match no known Stable Audio 3 contract.\n  found: ${list(found)}\n  expected: ${allowed.map((set) => list(set)).join('  or  ')}`,
  );
}

function pickOutput(graph: string, what: string, outputs: readonly string[], known: readonly string[]): string {
  if (outputs.length === 1) return outputs[0];
  const named = outputs.filter((n) => known.includes(n));
  if (named.length === 1) return named[0];
  throw new Sa3ContractError(`${graph}: the ${what} has outputs ${list(outputs)}; expected a single output, or exactly one of: ${list(known)}`);
}
