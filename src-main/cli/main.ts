/**
 * `tessera` command line: `generate`, `bench`, `packs`, `models`. Usage errors exit 2, runtime failures 1, Ctrl-C 130.
 */
import { runBench } from './bench.ts';
import { runBenchGpu } from './bench-gpu.ts';
import { runBenchLongform } from './bench-longform.ts';
import { runGenerate } from './generate.ts';
import { runModels } from './models.ts';
import { runPacks } from './packs.ts';
import { runRender } from './render.ts';
import { runWeb } from './web.ts';
import { CliError } from './args.ts';
import { errorMessage } from '../contract/errors.ts';

const USAGE = `usage: tessera <command> [options]

commands:
  generate   generate audio from a text prompt into a WAV file (npm run generate -- --help)
  bench      measure engine stages on the built-in packs (npm run bench:engine)
  bench-longform  long-form cost, scaling and seams (npm run bench:longform)
  bench-gpu  full-size UNet and end-to-end timings per device, CPU for a ratio (npm run bench:gpu -- --help)
  packs      write a built-in model pack to a folder (npm run build:packs -- --help)
  models     list, install (download with resume and sha256), import and remove model packs (npm run models -- --help)
  render     generate a project's missing takes and export mixdown and stems (npm run render -- --help)
  web        browser mode: serve the StudioApi over a loopback WebSocket with a per-run token (npm run web)
`;

/**
 * Longest command line accepted, in bytes. NOTE: ONNX Runtime 1.30 (onnxruntime-node, Linux) overflows its native
 * stack while creating a session when the process's command line passes about 28 KB: the process dies with SIGSEGV
 * and no message (seen with a 30,000-character --prompt). Long text belongs in a request file.
 */
export const COMMAND_LINE_LIMIT = 16 * 1024;

/** Refuses a command line ONNX Runtime would crash on, saying how to pass long prompts instead. */
function checkCommandLineLength(argv: readonly string[]): void {
  const bytes = [process.execPath, ...process.execArgv, ...argv].reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
  if (bytes <= COMMAND_LINE_LIMIT) return;
  throw new CliError(
    `the command line is ${bytes.toLocaleString('en')} bytes; Tessera accepts up to ${COMMAND_LINE_LIMIT.toLocaleString('en')} because ONNX Runtime crashes ` +
      'on command lines over about 28 KB. Put long prompts or many regions in a request file: --request FILE.json (see npm run generate -- --help)',
  );
}

async function main(argv: string[]): Promise<number> {
  checkCommandLineLength(argv);
  const [command, ...rest] = argv;
  switch (command) {
    case 'generate':
      return runGenerate(rest);
    case 'bench':
      return runBench(rest);
    case 'bench-longform':
      return runBenchLongform(rest);
    case 'bench-gpu':
      return runBenchGpu(rest);
    case 'packs':
      return runPacks(rest);
    case 'models':
      return runModels(rest);
    case 'render':
      return runRender(rest);
    case 'web':
      return runWeb(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new CliError(`unknown command '${command}'\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof CliError;
    const message = errorMessage(error);
    process.stderr.write(`\nerror: ${message}\n`);
    if (process.env.TESSERA_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = usage ? 2 : error instanceof Error && error.name === 'CancelledError' ? 130 : 1;
  },
);
