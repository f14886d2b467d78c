/**
 * A generation request as it crosses a boundary (a `--request` JSON file today; the StudioApi later). The engine
 * checks ranges and region coverage itself; this schema checks shape and types and names the field that is wrong.
 */
import * as v from 'valibot';
import { limitSchema, LIMITS, SAMPLERS, TILING_METHODS, VAE_DECODE_MODES, WINDOW_WEIGHTS } from './generation-settings.ts';
import { CodedError } from './errors.ts';

const seconds = v.pipe(v.number(), v.finite());

/** One time region of a piece. Seconds. */
export const RegionSchema = v.strictObject({
  start: seconds,
  end: seconds,
  prompt: v.string(),
  negativePrompt: v.optional(v.string()),
  guidance: v.optional(limitSchema(LIMITS.guidance)),
});

/** A whole request file. Unset generation settings take the model's defaults. */
export const GenerationRequestSchema = v.strictObject({
  /** Length of the piece; optional when regions are given (then the last region's end). */
  duration: v.optional(limitSchema(LIMITS.seconds)),
  /** Where the piece starts on a timeline (seconds, default 0): the same seed draws the same noise there. */
  start: v.optional(limitSchema(LIMITS.start)),
  prompt: v.optional(v.string()),
  negativePrompt: v.optional(v.string()),
  regions: v.optional(v.array(RegionSchema)),
  transition: v.optional(limitSchema(LIMITS.transition)),
  model: v.optional(v.string()),
  seed: v.optional(limitSchema(LIMITS.seed)),
  steps: v.optional(limitSchema(LIMITS.steps)),
  guidance: v.optional(limitSchema(LIMITS.guidance)),
  sampler: v.optional(v.picklist(SAMPLERS)),
  eta: v.optional(limitSchema(LIMITS.eta)),
  method: v.optional(v.picklist(TILING_METHODS)),
  vaeDecode: v.optional(v.picklist(VAE_DECODE_MODES)),
  tiling: v.optional(
    v.strictObject({
      strideRatio: v.optional(limitSchema(LIMITS.strideRatio)),
      weights: v.optional(v.picklist(WINDOW_WEIGHTS)),
      windowBatch: v.optional(limitSchema(LIMITS.windowBatch)),
      finalMultiSteps: v.optional(limitSchema(LIMITS.finalMultiSteps)),
      levelMatchJoins: v.optional(v.boolean()),
    }),
  ),
});

/** A parsed request file. */
export type GenerationRequestFile = v.InferOutput<typeof GenerationRequestSchema>;

/** Raised when a request file is malformed; lists every problem with its path. */
export class RequestFileError extends CodedError<'invalid-argument'> {
  override name = 'RequestFileError';
  constructor(message: string) {
    super('invalid-argument', message);
  }
}

/** Validates unknown JSON as a request; `where` names the source in the message. */
export function parseGenerationRequest(json: unknown, where: string): GenerationRequestFile {
  const result = v.safeParse(GenerationRequestSchema, json);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => `  - ${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`);
  throw new RequestFileError(`${where} is not a valid generation request:\n${problems.join('\n')}`);
}
