/**
 * Inputs of every length through the real CLI: a command line ONNX Runtime would crash on (SIGSEGV past ~28 KB) is
 * refused first, prompts over the project cap are refused naming it, and prompts over the model's token limit
 * generate with a warning (cut keeping `</s>`, as diffusers does). No case ends without a message.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PROMPT_CHARS } from '../../src-main/contract/generation-settings.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';

const cli = (args: string[]): Promise<CliRun> => runCli(args, { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR });
const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => undefined)) !== undefined;
const words = (n: number): string => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'low' : 'drone')).join(' ');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-cli-long-'));
  await builtinPack('sketch');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('long inputs', () => {
  it('a 30,000-character --prompt is refused with the reason and the way out, not a native crash', async () => {
    const out = join(work, 'huge.wav');
    const r = await cli(['generate', '--prompt', 'x'.repeat(30_000), '--duration', '2', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the command line is [\d,]+ bytes; Tessera accepts up to 16,384 because ONNX Runtime crashes .*--request FILE\.json/);
    expect(await exists(out)).toBe(false);
  });

  it(`a prompt over ${MAX_PROMPT_CHARS} characters (flag or request file) is refused naming its length and the cap`, async () => {
    const flag = await cli(['generate', '--prompt', 'x'.repeat(10_000), '--duration', '2', '--out', join(work, 'a.wav')]);
    expect(flag.code).toBe(1); // a request the engine refuses, like an over-long duration
    expect(flag.stderr).toMatch(/prompt is 10000 characters; prompts are capped at 4000/);
    const file = join(work, 'request.json');
    await writeFile(file, JSON.stringify({ duration: 4, regions: [{ start: 0, end: 2, prompt: 'rain' }, { start: 2, end: 4, prompt: 'rain '.repeat(20_000) }] }));
    const viaFile = await cli(['generate', '--request', file, '--out', join(work, 'b.wav')]);
    expect(viaFile.code).toBe(1);
    expect(viaFile.stderr).toMatch(/regions\[1\]\.prompt is 100000 characters; prompts are capped at 4000/);
  });

  it('a prompt over the model\'s 512 tokens generates and warns how many tokens were ignored', async () => {
    const out = join(work, 'long.wav');
    const r = await cli(['generate', '--prompt', words(700), '--duration', '2', '--seed', '1', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: model 'sketch' reads at most 512 tokens; the last 190 tokens of "low drone low drone/);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { truncatedPrompts: unknown[] };
    expect(summary.truncatedPrompts).toEqual([{ prompt: words(700), maxTokens: 512, droppedTokens: 190 }]);
    expect(await exists(out)).toBe(true);
  });
});
