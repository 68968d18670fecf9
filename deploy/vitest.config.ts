import { defineConfig } from 'vitest/config'

// Checks of the deployment files: no service needed, only kubectl, docker-compose and amtool.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
})
