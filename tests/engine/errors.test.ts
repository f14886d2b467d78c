/** The engine's errors carry the API's codes, so every boundary reports them the same way; range checks name the table's range. */
import { describe, expect, it } from 'vitest';
import { CodedError, toApiError } from '../../src-main/contract/errors.ts';
import { LIMITS } from '../../src-main/contract/generation-settings.ts';
import { CancelledError, checkLimit, InvalidRequestError, ModelRunError, throwIfAborted } from '../../src-main/engine/errors.ts';
import { Sa3ContractError } from '../../src-main/engine/families/stable-audio-3/contract.ts';
import { FeedMismatchError, GraphMismatchError } from '../../src-main/engine/runtime/session.ts';
import { f32 } from '../../src-main/engine/tensor/tensor.ts';

describe('coded engine errors', () => {
  it.each([
    [new InvalidRequestError('steps', 0, 'steps 0 is too few'), 'InvalidRequestError', 'invalid-argument'],
    [new CancelledError('denoise'), 'CancelledError', 'cancelled'],
    [new GraphMismatchError('unet: input x is missing'), 'GraphMismatchError', 'model-error'],
    [new FeedMismatchError("unet: 'x' missing"), 'FeedMismatchError', 'model-error'],
    [new Sa3ContractError('dit: no known contract'), 'Sa3ContractError', 'model-error'],
    [new ModelRunError('unet', {}, new Error('boom')), 'ModelRunError', 'model-error'],
  ] as const)('%s has name %s and code %s, kept by toApiError', (error, name, code) => {
    expect(error).toBeInstanceOf(CodedError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(toApiError(error, { fallback: 'internal' })).toEqual({ code, message: error.message });
  });

  it('keep their fields and messages', () => {
    const invalid = new InvalidRequestError('tiling.windowBatch', 0, 'window batch 0 must be a whole number from 1 to 256');
    expect([invalid.field, invalid.value, invalid.message]).toEqual(['tiling.windowBatch', 0, 'window batch 0 must be a whole number from 1 to 256']);
    const cancelled = new CancelledError('vocode');
    expect([cancelled.stage, cancelled.message]).toEqual(['vocode', 'generation cancelled during vocode']);
    expect(() => throwIfAborted(AbortSignal.abort(), 'decode')).toThrow(CancelledError);
    expect(new Sa3ContractError('x')).toBeInstanceOf(GraphMismatchError);
  });

  it('ModelRunError names the graph and each feed, keeps the original message and cause', () => {
    const cause = new Error('Got invalid dimensions for input: x');
    const error = new ModelRunError('sketch/unet.onnx', { x: f32(new Float32Array(6), [2, 3]), t: f32(new Float32Array(2), [2]) }, cause);
    expect(error.cause).toBe(cause);
    expect(error.graph).toBe('sketch/unet.onnx');
    expect(error.message).toMatch(/^sketch\/unet\.onnx: ONNX Runtime failed to run the graph: Got invalid dimensions for input: x\n/);
    expect(error.message).toContain("feeds: 'x' float32 [2, 3], 't' float32 [2]");
    expect(new ModelRunError('g', {}, 'not an Error').message).toContain('failed to run the graph: not an Error');
  });
});

describe('checkLimit', () => {
  const thrown = (f: () => void): InvalidRequestError => {
    try {
      f();
    } catch (e) {
      if (e instanceof InvalidRequestError) return e;
      throw e;
    }
    throw new Error('nothing was thrown');
  };

  it('accepts the table’s range, ends included', () => {
    for (const [limit, values] of [
      [LIMITS.guidance, [0, 1, 100]],
      [LIMITS.eta, [0, 1]],
      [LIMITS.transition, [0, 600]],
      [LIMITS.steps, [1, 1000]],
      [LIMITS.strideRatio, [0.01, 1]],
    ] as const) {
      for (const v of values) expect(() => checkLimit('x', v, limit)).not.toThrow();
    }
  });

  it('names the field, the value, the bound it crossed and the table’s range', () => {
    const high = thrown(() => checkLimit('guidance', 101, LIMITS.guidance, { hint: '3 is the default' }));
    expect([high.field, high.value, high.code]).toEqual(['guidance', 101, 'invalid-argument']);
    expect(high.message).toBe(`guidance 101 must be at most 100; expected ${LIMITS.guidance.expected}; 3 is the default`);
    expect(thrown(() => checkLimit('transition', -1, LIMITS.transition, { unit: ' s' })).message).toBe(`transition -1 s must be a number ≥ 0; expected ${LIMITS.transition.expected}`);
    expect(thrown(() => checkLimit('transition', 601, LIMITS.transition, { unit: ' s' })).message).toBe(`transition 601 s must be at most 600 s; expected ${LIMITS.transition.expected}`);
    expect(thrown(() => checkLimit('tiling.strideRatio', 0, LIMITS.strideRatio, { label: 'stride ratio' })).message).toBe(`stride ratio 0 must be a number > 0; expected ${LIMITS.strideRatio.expected}`);
    expect(thrown(() => checkLimit('steps', 2.5, LIMITS.steps)).message).toBe('steps 2.5 must be a whole number from 1 to 1000');
    expect(thrown(() => checkLimit('eta', Number.NaN, LIMITS.eta)).message).toMatch(/^eta NaN must be a number ≥ 0; expected a number from 0 to 1 /);
    expect(thrown(() => checkLimit('eta', '1', LIMITS.eta)).value).toBe('1');
  });
});
