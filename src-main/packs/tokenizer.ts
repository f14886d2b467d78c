/**
 * `tokenizer.json` for built-in packs: a whole-word vocabulary in the Hugging Face tokenizers format.
 *
 * `@huggingface/tokenizers` has no WordLevel model, so the vocabulary is a WordPiece model without `##`
 * continuation pieces: a known word maps to its id, anything else to `<unk>`. Lower-casing and punctuation
 * splitting come from the BERT normaliser and pre-tokeniser; RobertaProcessing adds `<s>` … `</s>`, matching the
 * special ids of AudioLDM's RoBERTa tokenizer (research/audioldm.md §3.1: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3).
 */

/** Special tokens shared with AudioLDM's RoBERTa vocabulary. */
export const SPECIAL_TOKENS = { bos: '<s>', pad: '<pad>', eos: '</s>', unk: '<unk>' } as const;
/** Ids of the special tokens; words start at {@link FIRST_WORD_ID}. */
export const SPECIAL_IDS = { bos: 0, pad: 1, eos: 2, unk: 3 } as const;
/** Punctuation the BERT pre-tokeniser splits off; these ids carry no meaning (zero embeddings) but are not `<unk>`. */
export const PUNCTUATION = [',', '.', '!', '?', ';', ':', "'", '"', '(', ')', '-', '&', '/', '+'] as const;
/** First id of a vocabulary word (after the 4 special tokens and the punctuation). */
export const FIRST_WORD_ID = 4 + PUNCTUATION.length;

/** Builds tokenizer.json content (as a JSON-serialisable object) for `words`, ids in the given order. */
export function buildWordTokenizer(words: readonly string[], maxLength: number): Record<string, unknown> {
  const vocab: Record<string, number> = {
    [SPECIAL_TOKENS.bos]: SPECIAL_IDS.bos,
    [SPECIAL_TOKENS.pad]: SPECIAL_IDS.pad,
    [SPECIAL_TOKENS.eos]: SPECIAL_IDS.eos,
    [SPECIAL_TOKENS.unk]: SPECIAL_IDS.unk,
  };
  PUNCTUATION.forEach((p, i) => (vocab[p] = 4 + i));
  words.forEach((w, i) => {
    if (!/^[a-z0-9]+$/.test(w)) throw new Error(`vocabulary word '${w}' must be lowercase letters or digits`);
    if (w in vocab) throw new Error(`vocabulary word '${w}' appears twice`);
    vocab[w] = FIRST_WORD_ID + i;
  });
  const added = Object.entries(SPECIAL_TOKENS).map(([, content]) => ({
    id: vocab[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: true, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [SPECIAL_TOKENS.eos, SPECIAL_IDS.eos],
      cls: [SPECIAL_TOKENS.bos, SPECIAL_IDS.bos],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: SPECIAL_TOKENS.unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}
