/**
 * AudioLDM prompts as the text encoder takes them (research/audioldm.md §3.1): one batch of token ids padded with the
 * pad id only to the longest prompt (padding is inert behind the attention mask), each prompt cut to the
 * tokenizer's limit keeping its special tokens, and the words the vocabulary maps to the unknown token.
 */
import type { AudioLdmManifest } from '../../../contract/manifest.ts';
import type { PromptTokenizer, TruncatedPrompt } from '../model.ts';
import { encodeLimited, truncationsOf } from '../tokens.ts';

/** Token ids and attention mask of a batch of prompts, row-major [prompts, width]. */
export interface PromptBatch {
  ids: number[];
  mask: number[];
  /** Tokens per row: the longest prompt's. */
  width: number;
  /** Words of the prompts that became the unknown token, in order of appearance, without repeats. */
  unknownWords: string[];
  /** Prompts longer than the tokenizer's limit, cut keeping their special tokens (as diffusers does). */
  truncated: TruncatedPrompt[];
}

/** Tokenizes `prompts` into one padded batch under the pack's tokenizer settings. */
export function tokenizePrompts(tokenizer: PromptTokenizer, prompts: readonly string[], settings: AudioLdmManifest['tokenizer']): PromptBatch {
  const { maxLength, padId, unkId } = settings;
  const limited = prompts.map((p) => encodeLimited(tokenizer, p, maxLength, true));
  const rows = limited.map((l) => l.ids);
  const truncated = truncationsOf(prompts, limited.map((l) => l.dropped), maxLength);
  const width = Math.max(...rows.map((r) => r.length));
  const ids: number[] = [];
  const mask: number[] = [];
  for (const row of rows) {
    for (let i = 0; i < width; i++) {
      ids.push(i < row.length ? row[i] : padId);
      mask.push(i < row.length ? 1 : 0);
    }
  }
  return { ids, mask, width, unknownWords: unkId === undefined ? [] : unknownWordsOf(tokenizer, prompts, rows, unkId), truncated };
}

/** Words behind the unknown-token ids of each row, in order of appearance, without repeats. */
function unknownWordsOf(tokenizer: PromptTokenizer, prompts: readonly string[], rows: readonly number[][], unkId: number): string[] {
  const unknownWords: string[] = [];
  prompts.forEach((p, r) => {
    const words = p.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
    const tokens = tokenizer.tokens(p);
    rows[r].forEach((id, i) => {
      if (id !== unkId) return;
      // Token i of the row (after the start token) corresponds to word i − 1 for whole-word vocabularies;
      // fall back to the token text for subword tokenizers.
      const word = words[i - 1] ?? tokens[i] ?? '?';
      if (!unknownWords.includes(word)) unknownWords.push(word);
    });
  });
  return unknownWords;
}
