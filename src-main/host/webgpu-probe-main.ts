/**
 * Entry of the WebGPU probe's child process (started by webgpu-probe-launch.ts): checks for an adapter and
 * shader-f16, and with `--measure` times the reference workload on the CPU and then on WebGPU. Reports one JSON line
 * per result, marked with PROBE_LINE_PREFIX: on stdout under Node, on the MessagePort main hands it when main forked
 * it as a utility process (the desktop app; `probeOutput`). The parent enforces the time limits and kills it when
 * they pass or it has the last line.
 */
import { errorMessage } from '../contract/errors.ts';
import { checkWebGpuAdapter, timeRuns } from '../engine/runtime/device-check.ts';
import { adapterCheckGraphs, referenceWorkload } from './webgpu-probe-graphs.ts';
import { probeOutput } from './webgpu-probe-launch.ts';
import { PROBE_LINE_PREFIX, type ProbeReport } from './webgpu-probe.ts';

/** Timed runs per provider (after one warm-up), and when WebGPU's are cut short. */
const RUNS = 3;
/** A first timed WebGPU run this many times slower than the CPU's median settles the verdict. */
const HOPELESS = 4;

const output = probeOutput();

function report(r: ProbeReport): void {
  output.write(`${PROBE_LINE_PREFIX}${JSON.stringify(r)}`);
}

async function main(): Promise<void> {
  const { plain, half } = adapterCheckGraphs();
  const adapter = await checkWebGpuAdapter(plain, half);
  report({ kind: 'adapter', ...adapter });
  if (!process.argv.includes('--measure') || !adapter.available) return;
  const workload = referenceWorkload();
  const cpu = await timeRuns(workload, 'cpu', { warmups: 1, runs: RUNS });
  report({ kind: 'cpu', seconds: cpu });
  const cpuMedian = [...cpu].sort((a, b) => a - b)[cpu.length >> 1];
  const webgpu = await timeRuns(workload, 'webgpu', { warmups: 1, runs: RUNS, enough: (s) => s.length > 0 && s[0] > HOPELESS * cpuMedian });
  report({ kind: 'webgpu', seconds: webgpu });
}

main().then(
  () => output.end(0),
  (e: unknown) => {
    report({ kind: 'error', message: errorMessage(e).split('\n')[0].slice(0, 300) });
    output.end(1);
  },
);
