import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl } from '@tickets/shared/testing'
import { afterAll } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'
import { migrate } from '../../src/ops.js'

/** A payment app on its own migrated database, Redis prefix and NATS namespace; closed and dropped after the file. */
export async function buildTestApp(fileUrl: string, overrides: Record<string, string> = {}) {
  const iso = isolation(fileUrl)
  const url = mysqlUrl(iso.database('payment'))
  await migrate(url)
  const config = loadConfig(ConfigSchema, {
    MYSQL_URL: url,
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'silent',
    ...overrides,
  })
  const app = await buildApp(config, { defaultMetrics: false })
  afterAll(async () => {
    await app.close()
    await dropDatabase(url)
  })
  return { app, config, url, iso }
}
