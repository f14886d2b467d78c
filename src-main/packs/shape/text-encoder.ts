/**
 * The shape pack's text encoder: a small stand-in for CLAP's RoBERTa with the exact audioldm I/O contract
 * (research/audioldm.md §3.1): input_ids[B,S], attention_mask[B,S] (int64) → text_embeds[B,512], L2-normalised.
 *
 * Embedding table over the word vocabulary → mean over unmasked tokens → Linear(D→512) → ReLU → Linear(512→512)
 * (CLAP's projection head) → x / max(‖x‖₂, 1e-12). Distinct prompts give distinct, deterministic embeddings.
 * The projection head and the normalisation are the checkpoint converter's (audioldm/text-encoder.ts); the RoBERTa
 * tower is replaced by the mean of word embeddings, which suits the shape pack's word tokenizer.
 */
import type { Rng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { type BuiltGraph, createNet, filled, finishNet, ints, param } from '../graph/nn.ts';
import { clapProjection, l2Normalize } from '../audioldm/text-encoder.ts';

/** Output width of every audioldm text encoder (CLAP projection). */
export const TEXT_EMBED_DIM = 512;

/** Sizes of the stand-in text encoder. */
export interface TextEncoderSize {
  /** Rows of the embedding table (the tokenizer's vocabulary size). */
  vocabSize: number;
  /** Token embedding width (RoBERTa-base: 768). */
  hidden: number;
}

/** Builds `text_encoder.onnx` for `size` with weights from `rng`. */
export function buildTextEncoder(size: TextEncoderSize, rng: Rng): BuiltGraph {
  const g = new GraphBuilder('shape_text_encoder');
  const net = createNet(g, rng);
  const ids = g.input('input_ids', 'int64', ['B', 'S']);
  const mask = g.input('attention_mask', 'int64', ['B', 'S']);

  const table = param(net, 'token_embedding', [size.vocabSize, size.hidden], 1);
  const tokens = g.op('Gather', [table, ids], { axis: 0 }); // [B,S,D]
  const weights = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), ints(net, [2])]); // [B,S,1] float
  const summed = g.op('ReduceSum', [g.op('Mul', [tokens, weights]), ints(net, [1])], { keepdims: 0 }); // [B,D]
  const count = g.op('Max', [g.op('ReduceSum', [weights, ints(net, [1])], { keepdims: 0 }), filled(net, 1, [])]); // [B,1]
  const pooled = g.op('Div', [summed, count]);

  const embeds = l2Normalize(net, clapProjection(net, pooled, size.hidden, TEXT_EMBED_DIM));
  g.output(embeds, 'text_embeds', 'float32', ['B', TEXT_EMBED_DIM]);
  return finishNet(net, `Tessera shape text encoder (vocab ${size.vocabSize}, hidden ${size.hidden}, random weights)`);
}
