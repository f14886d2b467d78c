/**
 * A generation request as it crosses a boundary (a `--request` JSON file today; the StudioApi later). The engine
 * checks ranges and region coverage itself; this schema checks shape and types and names the field that is wrong.
 */
import * as v from 'valibot';

const seconds = v.pipe(v.number(), v.finite());

/** One time region of a piece. Seconds. */
export const RegionSchema = v.strictObject({
  start: seconds,
  end: seconds,
  prompt: v.string(),
  negativePrompt: v.optional(v.string()),
  guidance: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
});

/** A whole request file. Unset generation settings take the model's defaults. */
export const GenerationRequestSchema = v.strictObject({
  /** Length of the piece; optional when regions are given (then the last region's end). */
  duration: v.optional(v.pipe(seconds, v.gtValue(0))),
  prompt: v.optional(v.string()),
  negativePrompt: v.optional(v.string()),
  regions: v.optional(v.array(RegionSchema)),
  transition: v.optional(v.pipe(seconds, v.minValue(0))),
  model: v.optional(v.string()),
  seed: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 32 - 1))),
  steps: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
  guidance: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
  sampler: v.optional(v.picklist(['ddim', 'dpmpp-2m', 'pingpong'])),
  eta: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0))),
  method: v.optional(v.picklist(['multidiffusion', 'spotdiffusion', 'auto'])),
  vaeDecode: v.optional(v.picklist(['window', 'shared'])),
  tiling: v.optional(
    v.strictObject({
      strideRatio: v.optional(v.pipe(v.number(), v.gtValue(0), v.maxValue(1))),
      weights: v.optional(v.picklist(['tapered', 'uniform'])),
      windowBatch: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
      finalMultiSteps: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    }),
  ),
});

/** A parsed request file. */
export type GenerationRequestFile = v.InferOutput<typeof GenerationRequestSchema>;

/** Raised when a request file is malformed; lists every problem with its path. */
export class RequestFileError extends Error {
  override name = 'RequestFileError';
}

/** Validates unknown JSON as a request; `where` names the source in the message. */
export function parseGenerationRequest(json: unknown, where: string): GenerationRequestFile {
  const result = v.safeParse(GenerationRequestSchema, json);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => `  - ${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`);
  throw new RequestFileError(`${where} is not a valid generation request:\n${problems.join('\n')}`);
}
