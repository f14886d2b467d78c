/**
 * CLAP's text tower (transformers `ClapTextModelWithProjection`, `modeling_clap.py`) as an ONNX graph with the
 * audioldm text_encoder contract: input_ids, attention_mask int64 [B, S] → text_embeds float32 [B, projection_dim],
 * L2-normalised as AudioLDMPipeline._encode_prompt does after the model.
 *
 * Embeddings: word + token-type row 0 (the `token_type_ids` buffer is all zeros) + position, with RoBERTa position ids
 * cumsum(ids ≠ pad)·(ids ≠ pad) + pad (real tokens at 2, 3, …; pads at 1), then LayerNorm. Encoder layers are
 * post-LN BERT layers: softmax(q·kᵀ/√d + (1 − mask)·float32_min)·v → dense → LayerNorm(+ residual) → GELU(erf) FFN →
 * LayerNorm(+ residual). Pooler tanh(dense(h[:, 0])), projection linear1 → ReLU → linear2, then x / max(‖x‖, 1e-12).
 * Parameters are read by their transformers state-dict names (`text_model.encoder.layer.0.attention.self.query`).
 */
import { type Rng, createRng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { type BuiltGraph, type Net, type WeightSource, add, createNet, filled, finishNet, gelu, ints, layerNorm, linear, param, reshape, transpose } from '../graph/nn.ts';
import type { ClapTextConfig } from './config-text-vocoder.ts';

/** Options of {@link buildClapTextEncoder}. */
export interface ClapTextEncoderOptions {
  /** Read every parameter from this checkpoint instead of drawing it from the rng. */
  weights?: WeightSource;
  /**
   * Also output `text_embeds_raw` [B, projection_dim], the projection before normalisation (what transformers returns
   * as `text_embeds`). For tests: the engine's contract declares `text_embeds` alone, and refuses extra outputs.
   */
  rawOutput?: boolean;
}

/** float32's most negative finite value: transformers' additive mask value (`torch.finfo(float32).min`). */
const FLOAT32_MIN = -3.4028234663852886e38;

/** CLAP's projection head: Linear(in → out) → ReLU → Linear(out → out); `key`: `text_projection` (linear1, linear2). */
export function clapProjection(net: Net, x: string, inDim: number, outDim: number, key?: string): string {
  const hidden = net.g.op('Relu', [linear(net, x, inDim, outDim, key === undefined ? {} : { key: `${key}.linear1` })]);
  return linear(net, hidden, outDim, outDim, { gain: Math.SQRT2, ...(key === undefined ? {} : { key: `${key}.linear2` }) });
}

/** x / max(‖x‖₂, 1e-12) over axis 1 of [B, D]: `torch.nn.functional.normalize(x, dim=-1)`. */
export function l2Normalize(net: Net, x: string): string {
  const g = net.g;
  const norm = g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [x, x]), ints(net, [1])], { keepdims: 1 })]);
  return g.op('Div', [x, g.op('Max', [norm, filled(net, 1e-12, [])])]);
}

/** Self-attention of one BERT layer over [B, S, H] with the additive mask [B, 1, 1, S]; `key`: `…attention`. */
function selfAttention(net: Net, x: string, mask: string, config: ClapTextConfig, key: string): string {
  const g = net.g;
  const h = config.hiddenSize;
  const heads = config.numAttentionHeads;
  const d = h / heads;
  const heads4d = (t: string, perm: number[]): string => transpose(net, reshape(net, t, [0, 0, heads, d]), perm);
  const q = heads4d(linear(net, x, h, h, { key: `${key}.self.query` }), [0, 2, 1, 3]);
  const k = heads4d(linear(net, x, h, h, { key: `${key}.self.key` }), [0, 2, 3, 1]);
  const v = heads4d(linear(net, x, h, h, { key: `${key}.self.value` }), [0, 2, 1, 3]);
  // Divide the scores, as transformers does (a multiply by d^−0.5 differs by a rounding unless d is a power of 4).
  const scores = g.op('Div', [g.op('MatMul', [q, k]), filled(net, Math.sqrt(d), [])]);
  const probs = g.op('Softmax', [add(net, scores, mask)], { axis: -1 });
  const context = reshape(net, transpose(net, g.op('MatMul', [probs, v]), [0, 2, 1, 3]), [0, 0, h]);
  const out = linear(net, context, h, h, { key: `${key}.output.dense` });
  return layerNorm(net, add(net, out, x), h, config.layerNormEps, `${key}.output.LayerNorm`);
}

/** One post-LN encoder layer; `key`: `text_model.encoder.layer.i`. */
function encoderLayer(net: Net, x: string, mask: string, config: ClapTextConfig, key: string): string {
  const h = config.hiddenSize;
  const attended = selfAttention(net, x, mask, config, `${key}.attention`);
  const inner = gelu(net, linear(net, attended, h, config.intermediateSize, { key: `${key}.intermediate.dense` }));
  const out = linear(net, inner, config.intermediateSize, h, { key: `${key}.output.dense` });
  return layerNorm(net, add(net, out, attended), h, config.layerNormEps, `${key}.output.LayerNorm`);
}

/** Builds `text_encoder.onnx` for `config`, from `options.weights` or with random weights from `rng`. */
export function buildClapTextEncoder(config: ClapTextConfig, rng: Rng, options: ClapTextEncoderOptions = {}): BuiltGraph {
  const g = new GraphBuilder('clap_text_encoder');
  const net = createNet(g, rng, options.weights);
  const h = config.hiddenSize;
  const ids = g.input('input_ids', 'int64', ['B', 'S']);
  const attentionMask = g.input('attention_mask', 'int64', ['B', 'S']);

  // RoBERTa position ids come from the ids (≠ pad), not from attention_mask (transformers
  // create_position_ids_from_input_ids); the two agree for the tokenizer's output.
  const pad = g.i64('pad_id', [config.padTokenId], []);
  const real = g.op('Cast', [g.op('Not', [g.op('Equal', [ids, pad])])], { to: 7 });
  const positions = add(net, g.op('Mul', [g.op('CumSum', [real, g.i64('axis', [1], [])]), real]), pad);

  const e = 'text_model.embeddings';
  const words = g.op('Gather', [param(net, 'word_embeddings', [config.vocabSize, h], 1, 0, `${e}.word_embeddings.weight`), ids], { axis: 0 });
  const typeTable = param(net, 'token_type_embeddings', [config.typeVocabSize, h], 1, 0, `${e}.token_type_embeddings.weight`);
  const typeRow = g.op('Gather', [typeTable, g.i64('type_id', [0], [])], { axis: 0 });
  const placed = g.op('Gather', [param(net, 'position_embeddings', [config.maxPositionEmbeddings, h], 1, 0, `${e}.position_embeddings.weight`), positions], { axis: 0 });
  let hidden = layerNorm(net, add(net, add(net, words, typeRow), placed), h, config.layerNormEps, `${e}.LayerNorm`);

  const keep = g.op('Cast', [attentionMask], { to: 1 });
  const additive = g.op('Mul', [g.op('Sub', [filled(net, 1, []), keep]), filled(net, FLOAT32_MIN, [])]);
  const mask = g.op('Unsqueeze', [additive, ints(net, [1, 2])]); // [B, 1, 1, S]
  for (let i = 0; i < config.numHiddenLayers; i++) hidden = encoderLayer(net, hidden, mask, config, `text_model.encoder.layer.${i}`);

  const first = g.op('Gather', [hidden, g.i64('first_token', [0], [])], { axis: 1 }); // [B, H]: <s>
  const pooled = g.op('Tanh', [linear(net, first, h, h, { key: 'text_model.pooler.dense' })]);
  const raw = clapProjection(net, pooled, h, config.projectionDim, 'text_projection');
  g.output(l2Normalize(net, raw), 'text_embeds', 'float32', ['B', config.projectionDim]);
  if (options.rawOutput) g.output(raw, 'text_embeds_raw', 'float32', ['B', config.projectionDim]);
  return finishNet(
    net,
    `CLAP text tower (hidden ${h}, ${config.numHiddenLayers} layers, ${config.numAttentionHeads} heads, projection ${config.projectionDim})`,
  );
}

/**
 * The converter's entry: `text_encoder.onnx` from a checkpoint's `text_encoder/` weights (`rawOutput` as in
 * {@link ClapTextEncoderOptions}).
 */
export function buildAudioLdmTextEncoder(config: ClapTextConfig, weights: WeightSource, options: { rawOutput?: boolean } = {}): BuiltGraph {
  // The rng is never drawn from: every parameter comes from `weights`.
  return buildClapTextEncoder(config, createRng(0), { ...options, weights });
}
