/**
 * Token ids of a prompt cut to the model's length limit the way Hugging Face tokenizers do with `truncation=True`
 * (what diffusers' AudioLDM pipeline asks for): the special tokens of the post-processor stay, the text's own tokens
 * are cut from the end to leave room for them (`num_special_tokens_to_add`), so a RoBERTa prompt of any length still
 * ends in `</s>`. @huggingface/tokenizers (JS) ignores tokenizer.json's `truncation` block, hence this helper.
 */
import type { PromptTokenizer, TruncatedPrompt } from './model.ts';

/** A prompt's ids within the limit, and how many of its tokens were dropped. */
export interface LimitedTokens {
  ids: number[];
  /** Text tokens cut off the end (0 when the prompt fits). */
  dropped: number;
}

/**
 * Encodes `text` with the tokenizer's special tokens when `addSpecialTokens` and keeps at most `maxLength` ids,
 * cutting text tokens only. The special tokens around the text are found by encoding with and without them
 * (RobertaProcessing / TemplateProcessing wrap a single sequence as prefix + text + suffix).
 */
export function encodeLimited(tokenizer: PromptTokenizer, text: string, maxLength: number, addSpecialTokens: boolean): LimitedTokens {
  const full = tokenizer.encode(text, { addSpecialTokens });
  if (full.length <= maxLength) return { ids: full, dropped: 0 };
  const bare = addSpecialTokens ? tokenizer.encode(text, { addSpecialTokens: false }) : full;
  const specials = full.length - bare.length;
  if (specials < 0 || specials >= maxLength) {
    throw new RangeError(`the tokenizer adds ${specials} special tokens, which leaves no room for text in ${maxLength} tokens; the pack's tokenizer.maxLength is wrong`);
  }
  const prefix = prefixLength(full, bare, specials);
  const kept = maxLength - specials;
  return {
    ids: [...full.slice(0, prefix), ...bare.slice(0, kept), ...full.slice(prefix + bare.length)],
    dropped: bare.length - kept,
  };
}

/** Where the text's ids start inside the ids with special tokens (0 … specials); throws if they are not contiguous. */
function prefixLength(full: readonly number[], bare: readonly number[], specials: number): number {
  for (let p = 0; p <= specials; p++) {
    let same = true;
    for (let i = 0; i < bare.length && same; i++) same = full[p + i] === bare[i];
    if (same) return p;
  }
  throw new RangeError('the tokenizer post-processor does not wrap the text as prefix + text + suffix; cannot truncate it keeping its special tokens');
}

/** The prompts that lost tokens (`dropped[i]` of `prompts[i]`), each once. */
export function truncationsOf(prompts: readonly string[], dropped: readonly number[], maxTokens: number): TruncatedPrompt[] {
  const out: TruncatedPrompt[] = [];
  dropped.forEach((n, i) => {
    if (n > 0 && !out.some((t) => t.prompt === prompts[i])) out.push({ prompt: prompts[i], maxTokens, droppedTokens: n });
  });
  return out;
}
