import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl } from '@tickets/shared/testing'
import type { FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'
import { migrate } from '../../src/ops.js'

/** A payment app on its own migrated database, Redis prefix and NATS namespace; closed and dropped after the file. */
export async function buildTestApp(fileUrl: string, overrides: Record<string, string> = {}, iso = isolation(fileUrl)) {
  const url = mysqlUrl(iso.database('payment'))
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
  const app = await buildApp(config, { defaultMetrics: false })
  apps.push(app)
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close()
    await dropDatabase(url)
  })
  /** Another instance on the same database and NATS namespace (a restart, or --scale payment=2). */
  async function anotherInstance(more: Record<string, string> = {}) {
    const other = await buildApp(loadConfig(ConfigSchema, { ...env, INSTANCE_ID: `payment-${apps.length + 1}`, ...more }), { defaultMetrics: false })
    apps.push(other)
    return other
  }
  return { app, config, url, iso, anotherInstance }
}
