import { describe, expect, it } from 'vitest';
import { backoffDelay, createEngineSupervisor, type EngineChild, type RestartReason } from '../../src-main/app/engine-process.ts';

/** A fake utility process: exits when told to (crash) or when killed. */
class FakeChild implements EngineChild {
  killed = false;
  private exitListeners: ((code: number) => void)[] = [];
  constructor(readonly id: number) {}
  on(_event: 'exit', listener: (code: number) => void): void {
    this.exitListeners.push(listener);
  }
  kill(): boolean {
    this.killed = true;
    return true;
  }
  exit(code: number): void {
    for (const listener of this.exitListeners) listener(code);
  }
}

/** A fake clock whose timers run when time is advanced. */
class FakeClock {
  time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextId = 1;
  now = (): number => this.time;
  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, callback });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    if (typeof handle === 'number') this.timers.delete(handle);
  };
  get pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time);
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = end;
  }
}

function setup(options: { stableUptimeMs?: number } = {}) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const supervisor = createEngineSupervisor({
    fork: (modulePath) => {
      expect(modulePath).toBe('/app/engine-entry.js');
      const child = new FakeChild(children.length);
      children.push(child);
      return child;
    },
    modulePath: '/app/engine-entry.js',
    now: clock.now,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    ...options,
  });
  const restarts: RestartReason[] = [];
  supervisor.on('restarted', ({ cause }) => restarts.push(cause));
  const last = (): FakeChild => {
    const child = children.at(-1);
    if (!child) throw new Error('no child spawned');
    return child;
  };
  return { clock, children, supervisor, restarts, last };
}

describe('backoffDelay', () => {
  it('doubles from 0.5 s and caps at 30 s', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffDelay(n, 500, 30_000))).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('engine supervisor', () => {
  it('spawns once on start and reports spawned children', () => {
    const { supervisor, children } = setup();
    const spawned: number[] = [];
    supervisor.on('spawned', ({ child }) => spawned.push(child.id));
    supervisor.start();
    supervisor.start();
    expect(children).toHaveLength(1);
    expect(spawned).toEqual([0]);
    expect(supervisor.child).toBe(children[0]);
  });

  it('restarts a crashed engine after an exponentially growing delay', () => {
    const { supervisor, children, clock, restarts, last } = setup();
    supervisor.start();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      last().exit(1);
      expect(supervisor.child).toBeUndefined();
      const [delay] = clock.pending;
      delays.push(delay ?? -1);
      clock.advance((delay ?? 0) - 1);
      expect(children).toHaveLength(i + 1); // not yet
      clock.advance(1);
      expect(children).toHaveLength(i + 2);
      expect(supervisor.child).toBe(last());
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(restarts).toHaveLength(8);
    expect(restarts[0]).toEqual({ kind: 'crash', exitCode: 1, delayMs: 500 });
  });

  it('resets the back-off after 60 s of stable uptime', () => {
    const { supervisor, clock, last } = setup();
    supervisor.start();
    last().exit(1);
    clock.advance(500);
    last().exit(1);
    clock.advance(1000);
    last().exit(1);
    expect(clock.pending).toEqual([2000]);
    clock.advance(2000);
    clock.advance(59_999); // not quite stable
    last().exit(1);
    expect(clock.pending).toEqual([4000]);
    clock.advance(4000);
    clock.advance(60_000); // stable
    last().exit(1);
    expect(clock.pending).toEqual([500]);
  });

  it('hardRestart kills the engine and respawns at once, without a crash restart', () => {
    const { supervisor, children, clock, restarts } = setup();
    supervisor.start();
    const first = children[0];
    const next = supervisor.hardRestart('hard cancel of job_1');
    expect(first?.killed).toBe(true);
    expect(children).toHaveLength(2);
    expect(next).toBe(children[1]);
    expect(supervisor.child).toBe(children[1]);
    expect(restarts).toEqual([{ kind: 'hard', reason: 'hard cancel of job_1' }]);
    first?.exit(0); // the killed child's exit arrives later: not a crash
    expect(clock.pending).toEqual([]);
    expect(supervisor.child).toBe(children[1]);
    expect(children).toHaveLength(2);
  });

  it('hardRestart during a pending crash restart cancels the scheduled one', () => {
    const { supervisor, children, clock, last } = setup();
    supervisor.start();
    last().exit(1);
    expect(clock.pending).toEqual([500]);
    supervisor.hardRestart('user');
    expect(children).toHaveLength(2);
    clock.advance(10_000);
    expect(children).toHaveLength(2);
  });

  it('hardRestart does nothing before start or after shutdown', async () => {
    const { supervisor, children, clock } = setup();
    expect(supervisor.hardRestart('early')).toBeUndefined();
    supervisor.start();
    const done = supervisor.shutdown();
    children[0]?.exit(0);
    await done;
    expect(supervisor.hardRestart('late')).toBeUndefined();
    clock.advance(60_000);
    expect(children).toHaveLength(1);
  });

  it('shutdown kills the engine, resolves on its exit and never restarts it', async () => {
    const { supervisor, children, clock, restarts } = setup();
    supervisor.start();
    let resolved = false;
    const done = supervisor.shutdown().then(() => {
      resolved = true;
    });
    expect(children[0]?.killed).toBe(true);
    await Promise.resolve();
    expect(resolved).toBe(false);
    children[0]?.exit(0);
    await done;
    expect(resolved).toBe(true);
    clock.advance(120_000);
    expect(children).toHaveLength(1);
    expect(restarts).toEqual([]);
    expect(supervisor.child).toBeUndefined();
    expect(() => supervisor.start()).toThrow(/after shutdown/);
  });

  it('shutdown gives up waiting after the grace period', async () => {
    const { supervisor, clock } = setup();
    supervisor.start();
    const done = supervisor.shutdown();
    clock.advance(5000);
    await expect(done).resolves.toBeUndefined();
  });

  it('shutdown during a pending crash restart cancels it', async () => {
    const { supervisor, children, clock, last } = setup();
    supervisor.start();
    last().exit(1);
    await supervisor.shutdown();
    clock.advance(60_000);
    expect(children).toHaveLength(1);
  });

  it('unsubscribed listeners stop hearing restarts', () => {
    const { supervisor, last } = setup();
    const heard: string[] = [];
    const off = supervisor.on('restarted', ({ cause }) => heard.push(cause.kind));
    supervisor.start();
    supervisor.hardRestart('a');
    off();
    supervisor.hardRestart('b');
    expect(heard).toEqual(['hard']);
    expect(last().id).toBe(2);
  });
});
