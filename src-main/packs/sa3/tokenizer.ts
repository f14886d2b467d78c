/**
 * tokenizer.json of the stable-audio-3 stand-in: a whole-word vocabulary with Gemma's special-token ids
 * (`<pad>` 0, `<eos>` 1, `<bos>` 2, `<unk>` 3) and a Gemma-style post-processor that prepends `<bos>`. The SA3 ports
 * tokenize without special tokens (research/stableaudio.md §4.2), which the pack's manifest says with
 * `addSpecialTokens: false`; the post-processor is there so tests can see that the adapter honours it.
 *
 * `@huggingface/tokenizers` has no WordLevel model, so (as packs/tokenizer.ts does for the sketch pack) the
 * vocabulary is a WordPiece model without continuation pieces: a known word is one token, anything else `<unk>`.
 */
import { PUNCTUATION } from '../tokenizer.ts';

/** Gemma's special tokens and their ids. */
export const GEMMA_SPECIAL = { pad: ['<pad>', 0], eos: ['<eos>', 1], bos: ['<bos>', 2], unk: ['<unk>', 3] } as const;
/** Id of the first punctuation token; words follow the punctuation. */
const FIRST_PUNCTUATION_ID = 4;
/** Id of vocabulary word 0. */
export const FIRST_WORD_ID = FIRST_PUNCTUATION_ID + PUNCTUATION.length;

/** tokenizer.json content for `words` (ids in the given order). */
export function buildGemmaWordTokenizer(words: readonly string[], maxLength: number): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  for (const [token, id] of Object.values(GEMMA_SPECIAL)) vocab[token] = id;
  PUNCTUATION.forEach((p, i) => (vocab[p] = FIRST_PUNCTUATION_ID + i));
  words.forEach((w, i) => {
    if (!/^[a-z0-9]+$/.test(w)) throw new Error(`vocabulary word '${w}' must be lowercase letters or digits`);
    if (w in vocab) throw new Error(`vocabulary word '${w}' appears twice`);
    vocab[w] = FIRST_WORD_ID + i;
  });
  const bos = GEMMA_SPECIAL.bos[0];
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: Object.values(GEMMA_SPECIAL).map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [GEMMA_SPECIAL.bos[1]], tokens: [bos] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: GEMMA_SPECIAL.unk[0], continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}
