/**
 * `tokenizer.json` for a RoBERTa byte-level BPE tokenizer, built from the `vocab.json` + `merges.txt` pair that
 * diffusers checkpoints (AudioLDM's `tokenizer/`) ship instead of a `tokenizer.json`.
 *
 * The result is what transformers' `RobertaTokenizerFast` would save after converting the slow `RobertaTokenizer`
 * (convert_slow_tokenizer.RobertaConverter), with one deliberate difference: the BPE model names `<unk>` as its
 * unknown token, because the slow tokenizer, which produced AudioLDM's reference ids, maps a piece missing from the
 * vocabulary to `<unk>` where the converted fast one would drop it. `@huggingface/tokenizers` (the JS library the
 * host loads it with) ignores `truncation` and `padding`; they are filled in as diffusers calls the tokenizer
 * (`padding="max_length", truncation=True`) so that the Python library reproduces the reference from this file alone,
 * while the engine truncates and pads itself from the pack manifest (`engine/families/tokens.ts`).
 */
import { CodedError } from '../contract/errors.ts';

/** The special tokens RobertaTokenizer defines, by role. */
export const ROBERTA_SPECIAL_TOKENS = { bos: '<s>', eos: '</s>', pad: '<pad>', unk: '<unk>' } as const;

/** RoBERTa's mask token: an added token when the vocabulary has it, and it swallows the spaces before it. */
const MASK_TOKEN = '<mask>';

/** Ids of the special tokens in a particular vocabulary. */
export interface RobertaSpecialIds {
  bos: number;
  eos: number;
  pad: number;
  unk: number;
}

/** Options of {@link buildRobertaTokenizerJson}. */
export interface RobertaTokenizerOptions {
  /** Longest id sequence, `<s>` and `</s>` included (`model_max_length` in tokenizer_config.json; AudioLDM: 512). */
  maxLength: number;
  /**
   * Put a space before the text so its first word splits like the others (tokenizer_config.json; AudioLDM: false).
   * NOTE: like the fast tokenizers, the JS library adds it unless the text starts with a space; the slow tokenizer
   * also skips it before a tab or newline.
   */
  addPrefixSpace?: boolean;
}

/** A vocabulary or merges file that cannot make a RoBERTa tokenizer; the message names the entry and what to do. */
export class RobertaTokenizerError extends CodedError<'model-error'> {
  override name = 'RobertaTokenizerError';
  constructor(message: string) {
    super('model-error', message);
  }
}

/**
 * Whitespace as Python's `str.split()` sees it. transformers splits each merges.txt line with it; JS's `\s` differs
 * (it lacks U+001C–U+001F and U+0085 and has U+FEFF), and the lines must split exactly as they do there.
 */
// eslint-disable-next-line no-control-regex -- Python counts U+001C–U+001F as whitespace, so they must be here
const PYTHON_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

/** How many bad entries an error lists before it says "and N more". */
const LISTED_PROBLEMS = 5;

/** Parses vocab.json text into token → id, checking that every id is a non-negative integer. */
export function parseVocabJson(text: string): Record<string, number> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RobertaTokenizerError(`vocab.json is not valid JSON (${(e as Error).message}); the file is damaged: download the tokenizer again`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RobertaTokenizerError(`vocab.json must be a JSON object mapping each token to its id, but it holds ${describeJson(json)}; check that this is a RoBERTa tokenizer's vocab.json`);
  }
  checkVocab(json as Record<string, unknown>);
  return json as Record<string, number>;
}

/**
 * Parses merges.txt into merges `"left right"`, highest priority first, exactly as transformers' RobertaTokenizer
 * reads the file: `text.split("\n")[1:-1]`. That drops the first line, the `#version` header, whatever it holds, and
 * the last line, which is empty when the file ends with a newline; a file without the final newline therefore loses
 * its last merge, in transformers and here alike, so that ids match the reference. Blank lines are skipped (the slow
 * tokenizer gives them a rank that no pair can match); a line that is not two tokens is an error.
 */
export function parseMergesTxt(text: string): string[] {
  if (text.length === 0) {
    throw new RobertaTokenizerError('merges.txt is empty; it should start with a "#version" line followed by one merge per line: download the tokenizer again');
  }
  const lines = text.split('\n');
  const merges: string[] = [];
  const problems: string[] = [];
  lines.slice(1, -1).forEach((line, i) => {
    const parts = line.split(PYTHON_WHITESPACE).filter((p) => p.length > 0);
    if (parts.length === 0) return;
    if (parts.length === 2) merges.push(`${parts[0]} ${parts[1]}`);
    else problems.push(`line ${i + 2} ${JSON.stringify(line)} has ${parts.length} token${parts.length === 1 ? '' : 's'}`);
  });
  if (problems.length > 0) {
    throw new RobertaTokenizerError(
      `merges.txt has lines that are not a merge of two tokens: ${listProblems(problems)}. Each line after the "#version" header must be two tokens separated by a space; the file is damaged: download the tokenizer again`,
    );
  }
  return merges;
}

/** The ids of `<s>`, `</s>`, `<pad>` and `<unk>` in `vocab` (the pack manifest's `padId` and `unkId` come from here). */
export function robertaSpecialIds(vocab: Readonly<Record<string, number>>): RobertaSpecialIds {
  checkVocab(vocab);
  const missing = Object.values(ROBERTA_SPECIAL_TOKENS).filter((token) => !Object.hasOwn(vocab, token));
  if (missing.length > 0) {
    throw new RobertaTokenizerError(
      `vocab.json has no ${missing.map((t) => `'${t}'`).join(', ')}; a RoBERTa tokenizer needs ${Object.values(ROBERTA_SPECIAL_TOKENS).join(', ')}. ` +
        'Check that the folder holds a RoBERTa (AudioLDM/CLAP) tokenizer and that vocab.json downloaded completely',
    );
  }
  const id = (token: string): number => vocab[token] ?? NaN;
  return { bos: id(ROBERTA_SPECIAL_TOKENS.bos), eos: id(ROBERTA_SPECIAL_TOKENS.eos), pad: id(ROBERTA_SPECIAL_TOKENS.pad), unk: id(ROBERTA_SPECIAL_TOKENS.unk) };
}

/**
 * Builds the tokenizer.json object (JSON-serialisable) of a RoBERTa byte-level BPE tokenizer: BPE model over `vocab`
 * and `merges` (as {@link parseMergesTxt} returns them, highest priority first), ByteLevel pre-tokenizer and
 * decoder, `<s>` … `</s>` post-processing with the vocabulary's ids, truncation to `maxLength` and `<pad>` padding.
 */
export function buildRobertaTokenizerJson(vocab: Readonly<Record<string, number>>, merges: readonly string[], options: RobertaTokenizerOptions): Record<string, unknown> {
  const { maxLength, addPrefixSpace = false } = options;
  const ids = robertaSpecialIds(vocab);
  // Below 3 no text token fits between <s> and </s>.
  if (!Number.isSafeInteger(maxLength) || maxLength < 3) {
    throw new RobertaTokenizerError(`maxLength ${maxLength} must be an integer of at least 3 (<s>, one token, </s>); use the tokenizer's model_max_length (AudioLDM: 512)`);
  }
  checkMerges(vocab, merges);
  const specials: Array<[string, number]> = Object.values(ROBERTA_SPECIAL_TOKENS).map((t) => [t, vocab[t] ?? NaN]);
  const mask = vocab[MASK_TOKEN];
  if (mask !== undefined) specials.push([MASK_TOKEN, mask]);
  const addedTokens = specials
    .sort((a, b) => a[1] - b[1])
    .map(([content, id]) => ({ id, content, single_word: false, lstrip: content === MASK_TOKEN, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0',
    truncation: { direction: 'Right', max_length: maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: { strategy: { Fixed: maxLength }, direction: 'Right', pad_to_multiple_of: null, pad_id: ids.pad, pad_type_id: 0, pad_token: ROBERTA_SPECIAL_TOKENS.pad },
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [ROBERTA_SPECIAL_TOKENS.eos, ids.eos],
      cls: [ROBERTA_SPECIAL_TOKENS.bos, ids.bos],
      trim_offsets: true,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: ROBERTA_SPECIAL_TOKENS.unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: { ...vocab },
      merges: [...merges],
    },
  };
}

/** Throws unless every id of `vocab` is a non-negative integer. */
function checkVocab(vocab: Readonly<Record<string, unknown>>): void {
  const bad = Object.entries(vocab)
    .filter(([, id]) => typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0)
    .map(([token, id]) => `${JSON.stringify(token)}: ${JSON.stringify(id) ?? String(id)}`);
  if (bad.length > 0) {
    throw new RobertaTokenizerError(`vocab.json maps tokens to ids that are not non-negative integers: ${listProblems(bad)}; the file is damaged or not a tokenizer vocabulary: download it again`);
  }
  if (Object.keys(vocab).length === 0) {
    throw new RobertaTokenizerError('vocab.json is an empty object; a RoBERTa vocabulary has its special tokens, 256 byte symbols and the merged tokens: download it again');
  }
}

/**
 * Throws unless every merge is two tokens whose parts and result are in the vocabulary. The slow tokenizer would turn
 * such a merge into `<unk>` at run time, but the Rust library refuses to load it (MergeTokenOutOfVocabulary), and in a
 * real checkpoint it only happens when vocab.json and merges.txt come from different tokenizers.
 */
function checkMerges(vocab: Readonly<Record<string, number>>, merges: readonly string[]): void {
  const problems: string[] = [];
  merges.forEach((merge, rank) => {
    const parts = merge.split(' ');
    if (parts.length !== 2 || parts.some((p) => p.length === 0)) {
      problems.push(`merge ${rank} ${JSON.stringify(merge)} is not two tokens separated by one space`);
      return;
    }
    const absent = [parts[0], parts[1], parts.join('')].filter((t, i, all) => !Object.hasOwn(vocab, t) && all.indexOf(t) === i);
    if (absent.length > 0) problems.push(`merge ${rank} ${JSON.stringify(merge)} uses ${absent.map((t) => JSON.stringify(t)).join(', ')}, not in the vocabulary`);
  });
  if (problems.length > 0) {
    throw new RobertaTokenizerError(`merges.txt does not fit vocab.json: ${listProblems(problems)}. Use the vocab.json and merges.txt of the same tokenizer (download both again)`);
  }
}

/** The first few problems, then how many more. */
function listProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, LISTED_PROBLEMS).join('; ');
  return problems.length > LISTED_PROBLEMS ? `${shown}; and ${problems.length - LISTED_PROBLEMS} more` : shown;
}

/** A short description of a JSON value for an error message. */
function describeJson(json: unknown): string {
  if (Array.isArray(json)) return `an array of ${json.length}`;
  if (json === null) return 'null';
  return `a ${typeof json}`;
}
