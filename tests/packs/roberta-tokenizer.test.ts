/**
 * RoBERTa tokenizer.json from vocab.json + merges.txt (packs/roberta-tokenizer.ts), checked against the audioldm-tiny
 * fixture's golden ids (../shared/fixtures/audioldm-tiny, README §3: `tokenizer(texts, padding="max_length",
 * max_length=512, truncation=True)`), loaded with the host's loader and fed through the engine's prompt batching.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type AudioLdmManifest } from '../../src-main/contract/manifest.ts';
import type { PromptTokenizer } from '../../src-main/engine/families/model.ts';
import { tokenizePrompts } from '../../src-main/engine/families/audioldm/prompts.ts';
import { loadTokenizer } from '../../src-main/host/packs/load.ts';
import {
  buildRobertaTokenizerJson,
  parseMergesTxt,
  parseVocabJson,
  robertaSpecialIds,
  RobertaTokenizerError,
} from '../../src-main/packs/roberta-tokenizer.ts';
import { AUDIOLDM_TINY } from '../helpers/audioldm-fixture.ts';
import { builtinPack } from '../helpers/packs.ts';

/** The fixture's verbatim copy in tests/fixtures (read-only; its sha256s are checked by tests/fixtures/audioldm-tiny.test.ts). */
const FIXTURE = AUDIOLDM_TINY;
const TOKENIZER_DIR = join(FIXTURE, 'model', 'tokenizer');
const MAX_LENGTH = 512;

interface GoldenJson {
  arrays: Record<string, { file: string; dtype: string; dims: number[] }>;
  settings: { prompt: string; negative_prompt: string; tokenizer_extra_text: string };
}

/** A golden int32 array as rows of numbers. */
function goldenRows(golden: GoldenJson, name: string): number[][] {
  const spec = golden.arrays[name];
  if (!spec || spec.dtype !== 'int32' || spec.dims.length !== 2) throw new Error(`golden.json has no int32 [rows, cols] array '${name}'`);
  const bytes = readFileSync(join(FIXTURE, 'golden', spec.file));
  const [rows, cols] = spec.dims as [number, number];
  expect(bytes.byteLength).toBe(rows * cols * 4);
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => bytes.readInt32LE((r * cols + c) * 4)));
}

/** Ids padded with `<pad>` to `length` and their attention mask, as the pipeline's tokenizer call returns them. */
function padded(ids: readonly number[], padId: number, length: number): { ids: number[]; mask: number[] } {
  return { ids: [...ids, ...Array<number>(length - ids.length).fill(padId)], mask: [...ids.map(() => 1), ...Array<number>(length - ids.length).fill(0)] };
}

/**
 * transformers' slow RobertaTokenizer (`bytes_to_unicode`, the GPT-2 split pattern, `bpe`: merge the lowest-ranked
 * pair everywhere, repeat), ported line by line as an independent reference for text the golden does not cover.
 */
function slowRobertaIds(text: string, vocab: Record<string, number>, merges: readonly string[]): number[] {
  const byteToChar = new Map<number, string>();
  const printable = [...range(33, 126), ...range(161, 172), ...range(174, 255)];
  let extra = 0;
  for (let b = 0; b < 256; b++) byteToChar.set(b, String.fromCharCode(printable.includes(b) ? b : 256 + extra++));
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
  const unk = vocab['<unk>'] ?? -1;
  const ids = [vocab['<s>'] ?? -1];
  for (const piece of text.match(pattern) ?? []) {
    let word = Array.from(new TextEncoder().encode(piece), (b) => byteToChar.get(b) ?? '?');
    for (;;) {
      let best: [string, string] | undefined;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [[word[i] ?? '', word[i + 1] ?? ''], rank];
      }
      if (!best) break;
      const next: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === best[0] && word[i + 1] === best[1]) {
          next.push(best[0] + best[1]);
          i++;
        } else {
          next.push(word[i] ?? '');
        }
      }
      word = next;
    }
    ids.push(...word.map((t) => vocab[t] ?? unk));
  }
  ids.push(vocab['</s>'] ?? -1);
  return ids;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

let golden: GoldenJson;
let vocab: Record<string, number>;
let merges: string[];
let json: Record<string, unknown>;
let dir: string;
let manifest: AudioLdmManifest;
let tokenizer: PromptTokenizer;

beforeAll(async () => {
  golden = JSON.parse(readFileSync(join(FIXTURE, 'golden', 'golden.json'), 'utf8')) as GoldenJson;
  vocab = parseVocabJson(readFileSync(join(TOKENIZER_DIR, 'vocab.json'), 'utf8'));
  merges = parseMergesTxt(readFileSync(join(TOKENIZER_DIR, 'merges.txt'), 'utf8'));
  json = buildRobertaTokenizerJson(vocab, merges, { maxLength: MAX_LENGTH });
  // A pack manifest that uses this tokenizer.json (the rest borrowed from the sketch pack), loaded as the host does.
  dir = await mkdtemp(join(tmpdir(), 'tessera-roberta-'));
  const text = JSON.stringify(json);
  await writeFile(join(dir, 'tokenizer.json'), text);
  const sketch = await builtinPack('sketch');
  if (sketch.manifest.family !== 'audioldm') throw new Error('the sketch pack is not an audioldm pack');
  const ids = robertaSpecialIds(vocab);
  const draft = {
    ...sketch.manifest,
    id: 'roberta-fixture',
    tokenizer: { file: 'tokenizer.json', sha256: createHash('sha256').update(text).digest('hex'), maxLength: MAX_LENGTH, padId: ids.pad, unkId: ids.unk },
  };
  const parsed = parseManifest(draft, 'roberta test pack');
  if (parsed.family !== 'audioldm') throw new Error('the test manifest lost its family');
  manifest = parsed;
  tokenizer = await loadTokenizer({ dir, manifest });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the fixture tokenizer through the host loader', () => {
  it('reads the fixture as the README describes it: 294 tokens, 33 merges, <s> <pad> </s> <unk> = 0 1 2 3', () => {
    expect(Object.keys(vocab)).toHaveLength(294);
    expect(merges).toHaveLength(33);
    expect(merges[0]).toBe('i n');
    expect(robertaSpecialIds(vocab)).toEqual({ bos: 0, eos: 2, pad: 1, unk: 3 });
    expect(json.added_tokens).toEqual([
      { id: 0, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: '</s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 3, content: '<unk>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 293, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
    ]);
  });

  it('matches token_ids and attention_mask: the prompt and "" padded to 512', () => {
    const ids = goldenRows(golden, 'token_ids');
    const mask = goldenRows(golden, 'attention_mask');
    [golden.settings.prompt, ''].forEach((text, row) => {
      const got = padded(tokenizer.encode(text), manifest.tokenizer.padId, MAX_LENGTH);
      expect(got.ids).toEqual(ids[row]);
      expect(got.mask).toEqual(mask[row]);
    });
    expect(tokenizer.tokens(golden.settings.prompt)).toEqual(['<s>', 'a', 'Ġdog', 'Ġbarks', 'Ġin', 'Ġthe', 'Ġrain', '</s>']);
  });

  it('matches token_ids_negative and attention_mask_negative: "static" splits into two merges', () => {
    const got = padded(tokenizer.encode(golden.settings.negative_prompt), manifest.tokenizer.padId, MAX_LENGTH);
    expect(got.ids).toEqual(goldenRows(golden, 'token_ids_negative')[0]);
    expect(got.mask).toEqual(goldenRows(golden, 'attention_mask_negative')[0]);
    expect(tokenizer.tokens('static')).toEqual(['<s>', 'st', 'atic', '</s>']);
  });

  it('matches token_ids_extra: capitals, punctuation, double space, tab and digits, unpadded', () => {
    expect(golden.settings.tokenizer_extra_text).toContain('\t');
    expect(tokenizer.encode(golden.settings.tokenizer_extra_text)).toEqual(goldenRows(golden, 'token_ids_extra')[0]);
  });

  it('agrees with a port of the slow RobertaTokenizer on unicode, whitespace runs, contractions and repeats', () => {
    // The port is checked on the golden texts first, so a difference below is the library's, not the port's.
    for (const text of [golden.settings.prompt, '', golden.settings.negative_prompt, golden.settings.tokenizer_extra_text]) {
      expect(tokenizer.encode(text)).toEqual(slowRobertaIds(text, vocab, merges));
    }
    const texts = [
      'café naïve — 音楽 🐶🎵 rain',
      '  leading and trailing spaces  ',
      'line\nbreak\r\nand\ttabs\n\n',
      "don't we'll they're it's I'M",
      'numbers 1234567 and 3.14159, then 2024-12-04',
      'the the the rain rain barks barking barked',
      'static statics ecstatic',
      'ÀÉÎÕÜ ß ø Ω ж ע ع',
    ];
    for (const text of texts) expect(tokenizer.encode(text), text).toEqual(slowRobertaIds(text, vocab, merges));
    // Multi-byte characters are split into their UTF-8 byte symbols, never <unk>.
    const dog = tokenizer.encode('🐶');
    expect(dog).toHaveLength(2 + new TextEncoder().encode('🐶').length);
    expect(dog).not.toContain(robertaSpecialIds(vocab).unk);
  });

  it('decodes its ids back to the text (ByteLevel decoder)', () => {
    const library = new Tokenizer(json, {});
    for (const text of [golden.settings.prompt, golden.settings.tokenizer_extra_text, 'café 🐶 — 音楽', ' two  spaces ']) {
      const ids = library.encode(text).ids;
      expect(library.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false })).toBe(text);
    }
  });
});

describe('through the engine with the pack manifest (maxLength 512, padId 1, unkId 3)', () => {
  it('batches the golden prompts like the fixture, padding only to the longest row (the rest is inert <pad>, mask 0)', () => {
    const batch = tokenizePrompts(tokenizer, [golden.settings.prompt, ''], manifest.tokenizer);
    const ids = goldenRows(golden, 'token_ids');
    const mask = goldenRows(golden, 'attention_mask');
    expect(batch.width).toBe(8);
    for (let row = 0; row < 2; row++) {
      const gotIds = batch.ids.slice(row * batch.width, (row + 1) * batch.width);
      const gotMask = batch.mask.slice(row * batch.width, (row + 1) * batch.width);
      expect(padded(gotIds, manifest.tokenizer.padId, MAX_LENGTH).ids).toEqual(ids[row]);
      expect([...gotMask, ...Array<number>(MAX_LENGTH - batch.width).fill(0)]).toEqual(mask[row]);
    }
    expect(batch.unknownWords).toEqual([]);
    expect(batch.truncated).toEqual([]);
    const negative = tokenizePrompts(tokenizer, [golden.settings.negative_prompt], manifest.tokenizer);
    expect(padded(negative.ids, manifest.tokenizer.padId, MAX_LENGTH).ids).toEqual(goldenRows(golden, 'token_ids_negative')[0]);
  });

  it('truncates a long prompt as truncation=True does: <s>, the first 510 text tokens, </s>, and reports the cut', () => {
    const text = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 'static rain' : 'a dog barks')).join(' ');
    const bare = tokenizer.encode(text, { addSpecialTokens: false });
    expect(bare.length).toBeGreaterThan(MAX_LENGTH);
    const batch = tokenizePrompts(tokenizer, [text, golden.settings.prompt], manifest.tokenizer);
    expect(batch.width).toBe(MAX_LENGTH);
    expect(batch.ids.slice(0, MAX_LENGTH)).toEqual([0, ...bare.slice(0, MAX_LENGTH - 2), 2]);
    expect(batch.mask.slice(0, MAX_LENGTH)).toEqual(Array<number>(MAX_LENGTH).fill(1));
    expect(batch.ids.slice(MAX_LENGTH)).toEqual(goldenRows(golden, 'token_ids')[0]);
    expect(batch.truncated).toEqual([{ prompt: text, maxTokens: MAX_LENGTH, droppedTokens: bare.length - (MAX_LENGTH - 2) }]);
  });

  it('records the truncation and padding diffusers asks for, for libraries that apply them from tokenizer.json', () => {
    expect(json.truncation).toEqual({ direction: 'Right', max_length: MAX_LENGTH, strategy: 'LongestFirst', stride: 0 });
    expect(json.padding).toMatchObject({ strategy: { Fixed: MAX_LENGTH }, direction: 'Right', pad_id: 1, pad_token: '<pad>' });
  });
});

describe('addPrefixSpace', () => {
  it('tokenizes the first word like a later one when set, and leaves it bare by default', () => {
    const spaced = new Tokenizer(buildRobertaTokenizerJson(vocab, merges, { maxLength: MAX_LENGTH, addPrefixSpace: true }), {});
    const plain = new Tokenizer(json, {});
    expect(spaced.encode('dog barks').tokens).toEqual(['<s>', 'Ġdog', 'Ġbarks', '</s>']);
    expect(plain.encode('dog barks').tokens).toEqual(['<s>', 'd', 'og', 'Ġbarks', '</s>']);
    expect(plain.encode('dog barks').ids).toEqual(slowRobertaIds('dog barks', vocab, merges));
    expect(spaced.encode('dog barks').ids).toEqual(plain.encode(' dog barks').ids);
  });
});

describe('parseMergesTxt reads merges.txt as transformers does (split("\\n")[1:-1])', () => {
  it('skips the #version header and keeps the last merge when the file ends with a newline', () => {
    expect(parseMergesTxt('#version: 0.2\ni n\nĠ t\n')).toEqual(['i n', 'Ġ t']);
  });
  it('drops the last merge when the file lacks the final newline, as the slow reader does', () => {
    expect(parseMergesTxt('#version: 0.2\ni n\nĠ t')).toEqual(['i n']);
  });
  it('accepts CRLF line ends and blank lines, and a header alone as no merges', () => {
    expect(parseMergesTxt('#version: 0.2\r\ni n\r\n\r\nĠ t\r\n')).toEqual(['i n', 'Ġ t']);
    expect(parseMergesTxt('#version: 0.2\n')).toEqual([]);
  });
  it('refuses an empty file and lines that are not two tokens, naming the lines', () => {
    expect(() => parseMergesTxt('')).toThrow(/merges\.txt is empty/);
    const bad = () => parseMergesTxt('#version: 0.2\ni n\nh e l\nx\n');
    expect(bad).toThrow(RobertaTokenizerError);
    expect(bad).toThrow(/line 3 "h e l" has 3 tokens; line 4 "x" has 1 token\b/);
  });
});

describe('malformed inputs', () => {
  const tiny = (): Record<string, number> => ({ '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3, a: 4, b: 5, ab: 6 });

  it('refuses a vocabulary without <s>, </s>, <pad> or <unk>, naming what is missing', () => {
    const { '<pad>': _pad, '<unk>': _unk, ...rest } = tiny();
    expect(() => buildRobertaTokenizerJson(rest, ['a b'], { maxLength: 8 })).toThrow(expect.objectContaining({ name: 'RobertaTokenizerError', code: 'model-error' }));
    expect(() => buildRobertaTokenizerJson(rest, ['a b'], { maxLength: 8 })).toThrow(/vocab\.json has no '<pad>', '<unk>'; a RoBERTa tokenizer needs <s>, <\/s>, <pad>, <unk>/);
  });

  it('refuses vocab.json that is not JSON, not an object, or has ids that are not non-negative integers', () => {
    expect(() => parseVocabJson('{"<s>": 0,')).toThrow(/vocab\.json is not valid JSON/);
    expect(() => parseVocabJson('["<s>"]')).toThrow(/must be a JSON object.*an array of 1/);
    expect(() => parseVocabJson('{}')).toThrow(/vocab\.json is an empty object/);
    expect(() => parseVocabJson('{"<s>": 0, "a": -1, "b": 1.5, "c": "7"}')).toThrow(/"a": -1; "b": 1\.5; "c": "7"/);
  });

  it('refuses merges whose tokens or result are not in the vocabulary, naming merge and token', () => {
    expect(() => buildRobertaTokenizerJson(tiny(), ['a b', 'b a', 'a c'], { maxLength: 8 })).toThrow(
      /merge 1 "b a" uses "ba", not in the vocabulary; merge 2 "a c" uses "c", "ac", not in the vocabulary/,
    );
    expect(() => buildRobertaTokenizerJson(tiny(), ['ab'], { maxLength: 8 })).toThrow(/merge 0 "ab" is not two tokens/);
  });

  it('refuses a maxLength with no room for text', () => {
    expect(() => buildRobertaTokenizerJson(tiny(), ['a b'], { maxLength: 2 })).toThrow(/maxLength 2 must be an integer of at least 3/);
    expect(() => buildRobertaTokenizerJson(tiny(), ['a b'], { maxLength: 1.5 })).toThrow(/maxLength 1\.5/);
  });

  it('builds a loadable tokenizer from a minimal valid vocabulary (no <mask>, ids from the vocabulary, <unk> for what it lacks)', () => {
    const vocabulary = { ...tiny(), '<s>': 10, '</s>': 11 };
    const built = buildRobertaTokenizerJson(vocabulary, ['a b'], { maxLength: 8 });
    expect((built.added_tokens as Array<{ content: string }>).map((t) => t.content)).toEqual(['<pad>', '<unk>', '<s>', '</s>']);
    expect(new Tokenizer(built, {}).encode('abba').ids).toEqual([10, 6, 5, 4, 11]);
    // A byte symbol missing from the vocabulary becomes <unk>, as in the slow tokenizer (a converted fast one drops it).
    expect(new Tokenizer(built, {}).encode('abcab').ids).toEqual([10, 6, 3, 6, 11]);
    expect(slowRobertaIds('abcab', vocabulary, ['a b'])).toEqual([10, 6, 3, 6, 11]);
  });
});
