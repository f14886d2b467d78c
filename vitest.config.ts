import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Real ONNX Runtime sessions on a 2-core CI machine: keep files in separate forks, two at a time.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Tests (and the hosts they spawn) never read or write the user's real settings.
    env: { TESSERA_CONFIG_DIR: join(tmpdir(), `tessera-test-config-${process.pid}`) },
  },
});
