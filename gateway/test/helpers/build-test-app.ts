import { loadConfig } from '@tickets/shared/config'
import { isolation } from '@tickets/shared/testing'
import { afterAll } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!'

export async function buildTestApp(fileUrl: string, overrides: Record<string, string>) {
  const iso = isolation(fileUrl)
  const config = loadConfig(ConfigSchema, { AUTH_JWT_SECRET: TEST_SECRET, REDIS_PREFIX: iso.redisPrefix, LOG_LEVEL: 'silent', ...overrides })
  const app = await buildApp(config, { defaultMetrics: false })
  afterAll(() => app.close())
  return { app, config, iso }
}
