/**
 * The probe child's transport (host/webgpu-probe-launch.ts): `runProbeChild` over an injected launcher gives what the
 * spawn path gives for the same lines and ends; which launcher a process gets (the broker in a utility process of the
 * app, this Node binary elsewhere, none in Electron's other processes); and the child's output: the MessagePort when
 * main hands it one, stdout otherwise. The real child is run once under Node.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { defaultProbeLauncher, probeOutput, type ProbeEnd, type ProbeLauncher, type ProbeProcess } from '../../src-main/host/webgpu-probe-launch.ts';
import { PROBE_LINE_PREFIX, runProbeChild } from '../../src-main/host/webgpu-probe.ts';

const line = (report: object): string => `${PROBE_LINE_PREFIX}${JSON.stringify(report)}`;
const gpu = { available: true, shaderF16: true };

/** A launcher whose child prints `lines` (one per tick), then ends with `end` (none: it hangs until killed). */
function scripted(lines: string[], end?: ProbeEnd): { launch: ProbeLauncher; kills: number[]; measures: boolean[] } {
  const kills: number[] = [];
  const measures: boolean[] = [];
  const launch: ProbeLauncher = (measure) => {
    measures.push(measure);
    const onLine = new Set<(l: string) => void>();
    const onEnd = new Set<(e: ProbeEnd) => void>();
    let ended = false;
    void (async () => {
      for (const l of lines) {
        await new Promise((r) => setTimeout(r, 1));
        if (ended) return;
        onLine.forEach((f) => f(l));
      }
      await new Promise((r) => setTimeout(r, 1));
      if (end && !ended) {
        ended = true;
        onEnd.forEach((f) => f(end));
      }
    })();
    return {
      onLine: (f) => void onLine.add(f),
      onEnd: (f) => void onEnd.add(f),
      kill: () => {
        kills.push(performance.now());
        if (ended) return;
        ended = true;
        onEnd.forEach((f) => f({ how: 'SIGKILL', stderr: '' }));
      },
    };
  };
  return { launch, kills, measures };
}

const node = (script: string): { executable: string; args: string[] } => ({ executable: process.execPath, args: ['-e', script, '--'] });
const print = (lines: string[]): string => lines.map((l) => `console.log(${JSON.stringify(l)});`).join(' ');

describe('runProbeChild over an injected launcher', () => {
  it('the same lines give the spawn path outcome: a measurement, noise and damaged lines ignored', async () => {
    const lines = ['vkCreateInstance: Found no drivers!', `${PROBE_LINE_PREFIX}{oops`, line({ kind: 'adapter', ...gpu }), line({ kind: 'cpu', seconds: [0.2, 0.1, 0.3] }), line({ kind: 'webgpu', seconds: [0.1, 0.1, 0.1] })];
    const fake = scripted(lines, { how: 'exit code 0', stderr: '' });
    const [injected, spawned] = await Promise.all([runProbeChild(true, { launch: fake.launch }), runProbeChild(true, { command: node(print(lines)) })]);
    expect(injected).toEqual({ adapter: gpu, timing: { cpuSeconds: [0.2, 0.1, 0.3], webgpuSeconds: [0.1, 0.1, 0.1] } });
    expect(injected).toEqual(spawned);
    expect(fake.measures).toEqual([true]);
  });

  it('the same end gives the spawn path reason: a crash during the measurement names its exit and last words', async () => {
    const lines = [line({ kind: 'adapter', ...gpu })];
    const fake = scripted(lines, { how: 'exit code 134', stderr: 'dawn: device lost\n\n' });
    const script = `${print(lines)} process.stderr.write('dawn: device lost\\n\\n'); setTimeout(() => process.exit(134), 20);`;
    const [injected, spawned] = await Promise.all([runProbeChild(true, { launch: fake.launch }), runProbeChild(true, { command: node(script) })]);
    expect(injected.timing).toEqual({ cpuSeconds: [], webgpuSeconds: [], error: 'the probe ended during the measurement (exit code 134; dawn: device lost)' });
    expect(injected).toEqual(spawned);
  });

  it('a child that cannot start: "could not start" with its reason, from either launcher', async () => {
    const fake = scripted([], { startError: 'spawn /nonexistent/node ENOENT' });
    const [injected, spawned] = await Promise.all([
      runProbeChild(false, { launch: fake.launch }),
      runProbeChild(false, { command: { executable: '/nonexistent/node', args: [] } }),
    ]);
    expect(injected.adapter).toEqual({ available: false, shaderF16: false, reason: 'the WebGPU probe could not start: spawn /nonexistent/node ENOENT' });
    expect(injected).toEqual(spawned);
    const throwing: ProbeLauncher = () => {
      throw new Error('no broker here');
    };
    expect((await runProbeChild(false, { launch: throwing })).adapter.reason).toBe('the WebGPU probe could not start: no broker here');
  });

  it('kills the child once the outcome is known, and only then', async () => {
    const fake = scripted([line({ kind: 'adapter', ...gpu }), line({ kind: 'cpu', seconds: [0.1] })]);
    const outcome = await runProbeChild(false, { launch: fake.launch });
    expect(outcome).toEqual({ adapter: gpu });
    expect(fake.kills).toHaveLength(1);
    const hung = scripted([]);
    const timedOut = await runProbeChild(false, { launch: hung.launch, adapterLimitSeconds: 0.05 });
    expect(timedOut.adapter.reason).toBe('probe timed out: no answer from the WebGPU driver within 0.05 s');
    expect(hung.kills).toHaveLength(1);
  });
});

/** A fake `process` for the launcher and the child's output. */
function fakeProcess(options: { electron?: boolean; parentPort?: object } = {}) {
  const written: string[] = [];
  const exits: number[] = [];
  const proc: ProbeProcess & { parentPort?: object } = {
    versions: { ...process.versions, ...(options.electron ? { electron: '45.0.0' } : {}) },
    execPath: process.execPath,
    stdout: {
      write: (chunk: string, callback?: () => void) => {
        written.push(chunk);
        if (callback) setTimeout(callback, 0);
        return true;
      },
    },
    exit: (code) => void exits.push(code),
    ...(options.parentPort ? { parentPort: options.parentPort } : {}),
  };
  if (!options.electron) delete (proc.versions as { electron?: string }).electron;
  return { proc, written, exits };
}

describe('defaultProbeLauncher', () => {
  it("a utility process of the app asks main over its parent port for the probe (with --measure when measuring)", () => {
    const requests: unknown[] = [];
    const parentPort = Object.assign(new EventEmitter(), { postMessage: (m: unknown) => requests.push(m) });
    const launch = defaultProbeLauncher(fakeProcess({ electron: true, parentPort }).proc);
    launch(true);
    launch(false);
    expect(requests).toEqual([
      { type: 'spawn-worker', id: expect.stringMatching(/^webgpu-probe-\d+$/), module: 'webgpu-probe', args: ['--measure'] },
      { type: 'spawn-worker', id: expect.stringMatching(/^webgpu-probe-\d+$/), module: 'webgpu-probe' },
    ]);
    expect(parentPort.listenerCount('message')).toBe(1); // one client per port, however many probes
  });

  it("Electron's other processes cannot start it (their binary is the app)", () => {
    expect(() => defaultProbeLauncher(fakeProcess({ electron: true }).proc)).toThrow(/^Electron's main and renderer processes cannot start it/);
  });

  it('plain Node runs the real child with this binary: it answers whether there is an adapter', async () => {
    const outcome = await runProbeChild(false, { launch: defaultProbeLauncher(fakeProcess().proc) });
    expect(typeof outcome.adapter.available).toBe('boolean');
    expect(outcome.adapter.reason ?? '').not.toMatch(/crashed|timed out|could not start/);
  });
});

describe("the child's output", () => {
  it('under Node: one line each on stdout; it exits once stdout took them', async () => {
    const { proc, written, exits } = fakeProcess();
    const output = probeOutput(proc);
    output.write('@@a');
    output.end(0);
    expect(written).toEqual(['@@a\n', '']);
    expect(exits).toEqual([]);
    await new Promise((r) => setTimeout(r, 5));
    expect(exits).toEqual([0]);
  });

  it("as a utility process: lines go on the port main hands it (queued until it comes); it exits when the requester's end closes, or after lingering", async () => {
    vi.useFakeTimers();
    try {
      const parentPort = new EventEmitter();
      const { proc, written, exits } = fakeProcess({ electron: true, parentPort });
      const output = probeOutput(proc, 1000);
      output.write('@@first');
      const port = Object.assign(new EventEmitter(), { posted: [] as unknown[], started: false, postMessage: (m: unknown) => port.posted.push(m), start: () => void (port.started = true) });
      parentPort.emit('message', { data: { type: 'port' }, ports: [port] });
      output.write('@@second');
      expect(port.posted).toEqual(['@@first', '@@second']);
      expect(port.started).toBe(true);
      expect(written).toEqual([]);
      output.end(0);
      vi.advanceTimersByTime(999);
      expect(exits).toEqual([]); // the requester kills it once it has the last line
      vi.advanceTimersByTime(1);
      expect(exits).toEqual([0]);
      port.emit('close');
      expect(exits).toEqual([0, 0]);
      const orphan = fakeProcess({ electron: true, parentPort: new EventEmitter() });
      probeOutput(orphan.proc);
      (orphan.proc.parentPort as EventEmitter).emit('message', { data: { type: 'port' }, ports: [] });
      expect(orphan.exits).toEqual([1]);
    } finally {
      vi.useRealTimers();
    }
  });
});
