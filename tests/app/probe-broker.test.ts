/**
 * The WebGPU probe in the app, with Electron faked at its boundary (electron-fakes.ts): a utility process asks main's
 * broker for the probe, main forks `webgpu-probe-main.cjs` as a utility process, the child's report lines (written by
 * the real `probeOutput`) arrive over the MessagePort, a timeout kills it, a crash gives its exit and stderr, and
 * nothing is left running. The same lines give the same outcome as the Node spawn path.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BROKERED_BUNDLES, createWorkerBroker, forkBrokered, isEngineToMain } from '../../src-main/app/worker-broker.ts';
import { brokerClient, type BrokerParentPort } from '../../src-main/host/engine-worker/broker-client.ts';
import { brokeredProbeLauncher, probeOutput } from '../../src-main/host/webgpu-probe-launch.ts';
import { PROBE_LINE_PREFIX, runProbeChild, type ProbeChildOptions, type ProbeOutcome } from '../../src-main/host/webgpu-probe.ts';
import { fakeChannel, fakeFork, fakeRequester, sleep, type FakeChildProcess, type FakeUtility } from './electron-fakes.ts';

/** One thing the probe child does. */
type Step = { report: object } | { noise: string } | { stderr: string } | { wait: number } | { exit: number };

interface Scenario {
  name: string;
  measure: boolean;
  steps: Step[];
  options?: Pick<ProbeChildOptions, 'adapterLimitSeconds' | 'webgpuPhaseMinSeconds'>;
}

const gpu = { available: true, shaderF16: true };
const none = { available: false, shaderF16: false, reason: 'Failed to get a WebGPU adapter: No supported adapters' };

const scenarios: Scenario[] = [
  { name: 'no adapter', measure: false, steps: [{ report: { kind: 'adapter', ...none } }] },
  {
    name: 'a measurement, among native noise and a damaged line',
    measure: true,
    steps: [
      { noise: 'Warning: vkCreateInstance: Found no drivers!' },
      { noise: `${PROBE_LINE_PREFIX}{not json` },
      { report: { kind: 'adapter', ...gpu } },
      { report: { kind: 'cpu', seconds: [0.1, 0.1, 0.1] } },
      { report: { kind: 'webgpu', seconds: [0.04, 0.05, 0.06] } },
    ],
  },
  { name: 'an error before the adapter', measure: false, steps: [{ report: { kind: 'error', message: 'onnxruntime-node failed to load' } }, { exit: 1 }] },
  { name: 'an error during the measurement', measure: true, steps: [{ report: { kind: 'adapter', ...gpu } }, { report: { kind: 'cpu', seconds: [0.1] } }, { report: { kind: 'error', message: 'out of memory' } }] },
  { name: 'a crash before the adapter', measure: false, steps: [{ stderr: 'Segmentation fault in libvulkan\n' }, { exit: 139 }] },
  { name: 'a crash during the measurement', measure: true, steps: [{ report: { kind: 'adapter', ...gpu } }, { wait: 20 }, { stderr: 'device lost\n' }, { exit: 134 }] },
  { name: 'no answer in time', measure: false, steps: [{ wait: 60_000 }], options: { adapterLimitSeconds: 0.3 } },
  {
    name: 'a WebGPU half past its limit',
    measure: true,
    steps: [{ report: { kind: 'adapter', ...gpu } }, { report: { kind: 'cpu', seconds: [0.001, 0.001, 0.001] } }, { wait: 60_000 }],
    options: { webgpuPhaseMinSeconds: 0.3 },
  },
];

const line = (report: object): string => `${PROBE_LINE_PREFIX}${JSON.stringify(report)}`;

/** The scenario as a Node script for the spawn path (stdout lines, stderr, exit; exit 0 after the last step). */
function nodeScript(steps: Step[]): string {
  const body = steps.map((s) => {
    if ('report' in s) return `console.log(${JSON.stringify(line(s.report))});`;
    if ('noise' in s) return `console.log(${JSON.stringify(s.noise)});`;
    if ('stderr' in s) return `process.stderr.write(${JSON.stringify(s.stderr)});`;
    if ('wait' in s) return `await new Promise((r) => setTimeout(r, ${s.wait}));`;
    return `process.exit(${s.exit});`;
  });
  return `(async () => { ${body.join(' ')} process.stdout.write('', () => process.exit(0)); })();`;
}

/** The scenario as the probe utility process: the real `probeOutput` over the fake parent port. */
function probeProgram(steps: Step[]) {
  return (child: FakeChildProcess, utility: FakeUtility): void => {
    const output = probeOutput(child, 50);
    void (async () => {
      await sleep(5); // a process takes a while to start; main hands it its port at once
      for (const s of steps) {
        if (!utility.alive) return;
        if ('report' in s) output.write(line(s.report));
        else if ('noise' in s) output.write(s.noise);
        else if ('stderr' in s) child.stderr(s.stderr);
        else if ('wait' in s) await sleep(s.wait);
        else return child.exit(s.exit);
      }
      if (utility.alive) output.end(0);
    })();
  };
}

/** Main with the broker over a fake `utilityProcess.fork`, and one requester (the engine) asking it. */
function app(programs: Record<string, (child: FakeChildProcess, utility: FakeUtility) => void>) {
  const { fork, forked } = fakeFork(programs);
  const broker = createWorkerBroker<FakeUtility>({
    fork: forkBrokered(fork, '/app/dist', (child, message) => broker.handle(child, message)),
    channel: fakeChannel,
  });
  const engine = fakeRequester((requester, message) => broker.handle(requester, message));
  const spawn = brokerClient(engine.parentPort as unknown as BrokerParentPort);
  return { broker, forked, engine, spawn, launch: brokeredProbeLauncher(spawn) };
}

/** Outcomes compared across launchers: elapsed times blurred, the broker's exit wording reduced to the exit code. */
function comparable(o: ProbeOutcome): unknown {
  const text = (s: string): string => s.replace(/ \(killed or crashed\)/, '').replace(/after \d+\.\d s/, 'after N s');
  const adapter = { ...o.adapter, ...(o.adapter.reason === undefined ? {} : { reason: text(o.adapter.reason) }) };
  if (!o.timing) return { adapter };
  const { cutOffAfter, error, ...timing } = o.timing;
  return { adapter, timing: { ...timing, ...(cutOffAfter === undefined ? {} : { cutOff: true }), ...(error === undefined ? {} : { error: text(error) }) } };
}

let live: { broker: { size: number }; forked: FakeUtility[] } | undefined;
afterEach(async () => {
  if (!live) return;
  // Nothing is left running: every process main forked has exited and the broker tracks none.
  await sleep(30);
  expect(live.forked.filter((u) => u.alive).map((u) => u.modulePath)).toEqual([]);
  expect(live.broker.size).toBe(0);
  live = undefined;
});

describe('the WebGPU probe through main', () => {
  it('forks webgpu-probe-main.cjs with --measure and stderr piped; the report lines arrive over the port; the child is killed once the last one is in', async () => {
    const steps = scenarios[1].steps;
    const a = app({ 'webgpu-probe-main.cjs': probeProgram(steps) });
    live = a;
    const outcome = await runProbeChild(true, { launch: a.launch });
    expect(a.forked).toHaveLength(1);
    const [probe] = a.forked;
    expect(probe.modulePath).toBe('/app/dist/webgpu-probe-main.cjs');
    expect(probe.args).toEqual(['--measure']);
    expect(probe.child.argv).toContain('--measure'); // what webgpu-probe-main.ts reads
    expect(probe.options).toEqual({ serviceName: 'Tessera WebGPU Probe', stdio: ['ignore', 'inherit', 'pipe'] });
    expect(outcome).toEqual({ adapter: gpu, timing: { cpuSeconds: [0.1, 0.1, 0.1], webgpuSeconds: [0.04, 0.05, 0.06] } });
    await sleep(20);
    expect(probe.kills).toBe(1);
    expect(a.engine.received).toContainEqual({ type: 'worker-exit', id: expect.stringMatching(/^webgpu-probe-\d+$/), how: 'exit code 15 (killed or crashed)', stderr: '' });
  });

  it('an adapter check only: no --measure', async () => {
    const a = app({ 'webgpu-probe-main.cjs': probeProgram(scenarios[0].steps) });
    live = a;
    expect(await runProbeChild(false, { launch: a.launch })).toEqual({ adapter: none });
    expect(a.forked[0].args).toEqual([]);
  });

  it('a probe that does not answer in time is killed: "probe timed out"', async () => {
    const a = app({ 'webgpu-probe-main.cjs': probeProgram([{ wait: 60_000 }]) });
    live = a;
    const started = performance.now();
    const outcome = await runProbeChild(false, { launch: a.launch, adapterLimitSeconds: 0.2 });
    expect(outcome.adapter).toMatchObject({ available: false, reason: 'probe timed out: no answer from the WebGPU driver within 0.2 s' });
    expect(performance.now() - started).toBeLessThan(2000);
    await sleep(20);
    expect(a.forked[0].kills).toBe(1);
    expect(a.forked[0].alive).toBe(false);
  });

  it('a probe that crashes: its exit code and the last line of its stderr', async () => {
    const a = app({ 'webgpu-probe-main.cjs': probeProgram([{ stderr: 'vkCreateDevice\nSegmentation fault in libvulkan\n' }, { exit: 139 }]) });
    live = a;
    const outcome = await runProbeChild(false, { launch: a.launch });
    expect(outcome.adapter.available).toBe(false);
    expect(outcome.adapter.reason).toMatch(/^the WebGPU probe crashed \(exit code 139 \(killed or crashed\); Segmentation fault in libvulkan\) after \d+\.\d s$/);
    expect(a.forked[0].kills).toBe(0);
  });

  it.each(scenarios)('$name: the same outcome as the Node spawn path for the same lines', async (s) => {
    const a = app({ 'webgpu-probe-main.cjs': probeProgram(s.steps) });
    live = a;
    const [brokered, spawned] = await Promise.all([
      runProbeChild(s.measure, { ...s.options, launch: a.launch }),
      runProbeChild(s.measure, { ...s.options, command: { executable: process.execPath, args: ['-e', nodeScript(s.steps), '--'] } }),
    ]);
    expect(comparable(brokered)).toEqual(comparable(spawned));
  });

  it("a generation worker's probe goes through main too, and dies with the worker", async () => {
    const outcomes: ProbeOutcome[] = [];
    const a = app({
      'worker-main.cjs': (child) => {
        // What ModelCache.open → probeRuntime → runProbeChild does in a worker utility process.
        void runProbeChild(false, { launch: brokeredProbeLauncher(brokerClient(child.parentPort as unknown as BrokerParentPort)) }).then((o) => outcomes.push(o));
      },
      'webgpu-probe-main.cjs': probeProgram([{ wait: 60_000 }]),
    });
    live = a;
    const worker = a.spawn('worker');
    await sleep(30);
    expect(a.forked.map((u) => u.modulePath)).toEqual(['/app/dist/worker-main.cjs', '/app/dist/webgpu-probe-main.cjs']);
    expect(a.broker.size).toBe(2);
    worker.kill();
    await sleep(30);
    expect(a.forked.map((u) => u.alive)).toEqual([false, false]);
    // The engine hears of its worker only; the probe's exit went nowhere (its requester was gone).
    expect(a.engine.received.filter((m) => (m as { type: string }).type === 'worker-exit')).toEqual([{ type: 'worker-exit', id: expect.stringMatching(/^worker-\d+$/), how: 'exit code 15 (killed or crashed)' }]);
    expect(outcomes).toEqual([]);
  });

  it('a probe cannot ask main for processes; unknown modules and arguments are refused; a fork that throws is an exit', async () => {
    const a = app({
      'webgpu-probe-main.cjs': (child) => child.parentPort.postMessage({ type: 'spawn-worker', id: 'x1', module: 'webgpu-probe' }),
    });
    live = a;
    const probe = a.spawn('webgpu-probe');
    await sleep(30);
    expect(a.forked).toHaveLength(1);
    probe.kill();
    for (const bad of [
      { type: 'spawn-worker', id: 'x', module: 'shell' },
      { type: 'spawn-worker', id: 'x', module: 'webgpu-probe', args: ['--inspect'] },
      { type: 'spawn-worker', id: 'x', module: 'webgpu-probe', args: ['--measure', '--measure'] },
      { type: 'spawn-worker', id: 'x', args: ['--measure'] },
      { type: 'spawn-worker', id: 'x', module: 'toString' },
    ]) {
      expect(isEngineToMain(bad)).toBe(false);
    }
    expect(isEngineToMain({ type: 'spawn-worker', id: 'x', module: 'webgpu-probe', args: ['--measure'] })).toBe(true);
    const exits: string[] = [];
    const broken = createWorkerBroker({
      fork: () => {
        throw new Error('/app/dist/webgpu-probe-main.cjs is missing');
      },
      channel: fakeChannel,
    });
    broken.handle({ postMessage: (m) => void (m.type === 'worker-exit' && exits.push(m.how)) }, { type: 'spawn-worker', id: 'p1', module: 'webgpu-probe' });
    expect(exits).toEqual(['could not start: /app/dist/webgpu-probe-main.cjs is missing']);
    expect(broken.size).toBe(0);
  });

  it("an exit main reports before the child's last message arrives waits for the child's end of the port to close", async () => {
    const requests: { id: string }[] = [];
    const parentPort = Object.assign(new EventEmitter(), { postMessage: (m: { id: string }) => requests.push(m) });
    const spawn = brokerClient(parentPort as unknown as BrokerParentPort);
    const events: string[] = [];
    for (const closes of [true, false]) {
      const child = spawn('webgpu-probe');
      child.onMessage((m) => events.push(`message ${String(m)}`));
      child.onExit((how) => events.push(`exit ${how}`));
      const { id } = requests.at(-1) ?? { id: '' };
      const { port1, port2 } = fakeChannel();
      parentPort.emit('message', { data: { type: 'worker-port', id, pid: 1 }, ports: [port2] });
      port1.postMessage('last line');
      // Main's exit report travels on the parent port, the line on the child's port: here the report comes first.
      parentPort.emit('message', { data: { type: 'worker-exit', id, how: 'exit code 139 (killed or crashed)' }, ports: [] });
      expect(events).toEqual([]);
      if (closes) port1.close();
      await sleep(closes ? 20 : 600); // a port that never closes: the exit after at most half a second
      expect(events.splice(0)).toEqual(['message last line', 'exit exit code 139 (killed or crashed)']);
      expect(child.exited).toBe(true);
    }
  });

  it('every process main forks is bundled by `npm start`, and packaged', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const entries = pkg.scripts.start.split(' && ').find((c) => c.includes('--outdir=dist/app'))?.split(' ').filter((w) => w.endsWith('.ts')) ?? [];
    for (const { file } of Object.values(BROKERED_BUNDLES)) {
      expect(entries.map((e) => `${e.split('/').at(-1)?.replace(/\.ts$/, '')}.cjs`)).toContain(file);
    }
    expect(readFileSync(new URL('../../electron-builder.yml', import.meta.url), 'utf8')).toMatch(/^files:\n {2}- dist\/\*\*\/\*$/m);
  });
});
