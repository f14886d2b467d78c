/**
 * Child process of tests/engine/runtime/webgpu.test.ts: opens a small graph with device `webgpu` in a process whose
 * Vulkan environment has no usable driver (the adapter is chosen once per process, so this cannot run in the test's
 * own), and prints the session's provider and fallback reason as one JSON line.
 */
import { openSession } from '../../src-main/engine/runtime/session.ts';
import { adapterCheckGraphs } from '../../src-main/host/webgpu-probe-graphs.ts';

const { plain } = adapterCheckGraphs();
const spec = { inputs: [{ name: 'x', type: 'float32' as const, dims: [1, 8, 4, 4] }], outputs: [{ name: 'y', type: 'float32' as const, dims: [1, 8, 4, 4] }] };
const session = await openSession(plain.bytes, { name: 'adapter-check', device: 'webgpu', expected: spec });
const out = await session.run(plain.feeds);
process.stdout.write(`${JSON.stringify({ provider: session.provider, precision: session.precision, fallbackReason: session.fallbackReason, outputs: Object.keys(out) })}\n`);
await session.dispose();
