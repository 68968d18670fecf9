import { loadConfig } from '@tickets/shared/config'
import { queueTokenKey, signQueueToken } from '@tickets/contracts/queue-token'
import { isolation, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { afterAll } from 'vitest'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { ConfigSchema, type Config } from '../../src/config.js'

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!'
export const OPERATOR_TEST_SECRET = 'operator-secret-that-is-long-enough-too!'

/**
 * Load shedding, rate limits and the upstream deadlines effectively off: a busy test process would
 * trip them at random, and they are not what most tests look at. The shedding, rate-limit and
 * upstream-failure tests set their own.
 */
export const QUIET_GATEWAY_SETTINGS: Record<string, string> = {
  SHED_MAX_EVENT_LOOP_DELAY_MS: '60000',
  SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '60000',
  SHED_MAX_EVENT_LOOP_UTILIZATION: '1',
  SHED_JOIN_MAX_EVENT_LOOP_UTILIZATION: '1',
  RATE_LIMIT_GLOBAL_MAX: '100000',
  RATE_LIMIT_TOKEN_PER_SECOND: '100000',
  RATE_LIMIT_HOLD_MAX: '100000',
  RATE_LIMIT_PAYMENT_MAX: '100000',
  UPSTREAM_READ_TIMEOUT_MS: '10000',
  UPSTREAM_PROBE_TIMEOUT_MS: '5000',
}

export function testConfig(redisPrefix: string, overrides: Record<string, string> = {}): Config {
  return loadConfig(ConfigSchema, {
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    AUTH_JWT_SECRET: TEST_SECRET,
    REDIS_PREFIX: redisPrefix,
    LOG_LEVEL: 'silent',
    ...QUIET_GATEWAY_SETTINGS,
    ...overrides,
  })
}

export async function buildTestApp(fileUrl: string, overrides: Record<string, string>, options: BuildOptions = {}) {
  const iso = isolation(fileUrl)
  const config = testConfig(iso.redisPrefix, overrides)
  const app = await buildApp(config, { defaultMetrics: false, ...options })
  afterAll(() => app.close())
  return { app, config, iso }
}

/** A second gateway instance on the same Redis prefix (as two instances behind one load balancer). */
export async function anotherInstance(config: Config, options: BuildOptions = {}) {
  const app = await buildApp(config, { defaultMetrics: false, ...options })
  afterAll(() => app.close())
  return app
}

/** An ACTIVE waiting-room token for a user, as the queue service gives one (routes marked **queue** need it). */
export async function activeQueueHeaders(userId: string, concertId = 'c-1'): Promise<Record<string, string>> {
  const now = Math.floor(Date.now() / 1000)
  const token = await signQueueToken(queueTokenKey(TEST_SECRET), { userId, concertId, status: 'ACTIVE', seq: 1, issuedAt: now, expiresAt: now + 600 })
  return { 'x-queue-token': token }
}
