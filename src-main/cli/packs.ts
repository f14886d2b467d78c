/** `npm run build:packs -- --model sketch|shape-s --out DIR [--width N]`: writes a built-in pack to a folder. */
import { parseArgs } from 'node:util';
import { buildShapePack } from '../packs/shape/index.ts';
import { BUILTIN_PACKS } from '../host/packs/builtin.ts';
import { fileURLToPath } from 'node:url';
import writeFileAtomic from 'write-file-atomic';
import { packFingerprint, writePack } from '../host/packs/write.ts';
import { CliError, parseNumber } from './args.ts';

const HELP = `usage: npm run build:packs -- --model ID --out DIR [--width N]
       npm run build:packs -- --fingerprints

  --fingerprints  rewrite resources/packs/fingerprints.json (the pinned sha256 of every built-in pack file)

  --model ID   built-in pack: ${Object.keys(BUILTIN_PACKS).join(', ')}
  --out DIR    folder to create (replaced atomically if it holds an older pack)
  --width N    shape-s only: UNet base channels (default reduced width; 128 = full-size AudioLDM-S, for GPU runs)
`;

/** Runs the packs command. */
export async function runPacks(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      width: { type: 'string' },
      fingerprints: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.fingerprints) {
    const pinned: Record<string, unknown> = {};
    for (const [id, recipe] of Object.entries(BUILTIN_PACKS)) pinned[id] = packFingerprint(recipe.build());
    const path = fileURLToPath(new URL('../../resources/packs/fingerprints.json', import.meta.url));
    await writeFileAtomic(path, `${JSON.stringify(pinned, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify({ ok: true, wrote: path })}\n`);
    return 0;
  }
  if (!values.model || !values.out) throw new CliError(`--model and --out are required\n\n${HELP}`);
  const recipe = BUILTIN_PACKS[values.model];
  if (!recipe) throw new CliError(`--model '${values.model}' is not a built-in pack (${Object.keys(BUILTIN_PACKS).join(', ')})`);
  const width = parseNumber('width', values.width, { check: (n) => Number.isInteger(n) && n >= 8 && n % 8 === 0, expected: 'a whole multiple of 8', example: '128' });
  if (width !== undefined && values.model !== 'shape-s') throw new CliError('--width applies to shape-s only');
  const built = width !== undefined ? buildShapePack({ width }) : recipe.build();
  const pack = await writePack(built, values.out);
  process.stdout.write(`${JSON.stringify({ ok: true, id: pack.manifest.id, dir: pack.dir })}\n`);
  return 0;
}
