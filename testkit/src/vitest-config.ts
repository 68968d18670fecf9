import { fileURLToPath } from 'node:url'
import { defineConfig, type ViteUserConfig } from 'vitest/config'

type TestOptions = NonNullable<ViteUserConfig['test']>

/**
 * The vitest config of every package whose tests run against the real MariaDB, Redis and NATS:
 * test/**.test.ts, one process per file (forks), timeouts that allow for a migration, and a global
 * setup that stops the run with one clear sentence when a service is not reachable. `overrides`
 * adds to it or replaces a setting.
 */
export function serviceTestConfig(overrides: TestOptions = {}) {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      globalSetup: [fileURLToPath(new URL('./vitest-global-setup.js', import.meta.url))],
      pool: 'forks',
      testTimeout: 30_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  })
}
