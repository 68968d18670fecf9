import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl } from '@tickets/shared/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'
import { migrate } from '../../src/ops.js'

/** A booking app on its own migrated database, Redis prefix and NATS namespace; closed and dropped after the file. */
export async function buildTestApp(fileUrl: string, overrides: Record<string, string> = {}, options: Omit<BuildOptions, 'defaultMetrics'> = {}) {
  const iso = isolation(fileUrl)
  const url = mysqlUrl(iso.database('booking'))
  await migrate(url)
  const env = {
    MYSQL_URL: url,
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'silent',
    ...overrides,
  }
  const config = loadConfig(ConfigSchema, env)
  const apps: FastifyInstance[] = []
  const app = await buildApp(config, { defaultMetrics: false, ...options })
  apps.push(app)
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close()
    await dropDatabase(url)
  })
  /** Another instance of the service on the same database, Redis and NATS (as with --scale booking=2). */
  async function anotherInstance(more: Record<string, string> = {}) {
    const other = await buildApp(loadConfig(ConfigSchema, { ...env, INSTANCE_ID: `booking-${apps.length + 1}`, ...more }), { defaultMetrics: false, ...options })
    apps.push(other)
    return other
  }
  return { app, config, url, iso, anotherInstance }
}
