import type { FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET } from './index.js'

export type Isolation = ReturnType<typeof isolation>

export interface DatabaseTestAppOptions<C, O extends object> {
  /** Names the test database (`t_<service>_<isolation id>`) and the other instances' ids. */
  service: string
  /** The service's config from an environment (its schema's loadConfig). */
  loadConfig(env: Record<string, string>): C
  migrate(url: string): Promise<unknown>
  dropDatabase(url: string): Promise<unknown>
  buildApp(config: Readonly<C>, options: O & { defaultMetrics: boolean }): Promise<FastifyInstance>
  iso: Isolation
  overrides?: Record<string, string>
  options?: O
}

/**
 * An app of a service on MariaDB, for one test file: its own migrated database, Redis prefix and
 * NATS namespace. Every instance it made is closed after the file, the last first, and the database dropped.
 */
export async function buildDatabaseTestApp<C, O extends object>(opts: DatabaseTestAppOptions<C, O>) {
  const { iso } = opts
  const url = mysqlUrl(iso.database(opts.service))
  await opts.migrate(url)
  const env = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, MYSQL_URL: url, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent', ...opts.overrides }
  const build = (config: Readonly<C>) => opts.buildApp(config, { ...(opts.options as O), defaultMetrics: false })
  const config = opts.loadConfig(env)
  const apps: FastifyInstance[] = [await build(config)]
  afterAll(async () => {
    for (const a of apps.reverse()) await a.close()
    await opts.dropDatabase(url)
  })
  /** Another instance of the service on the same database, Redis and NATS (a restart, or --scale <service>=2). */
  async function anotherInstance(more: Record<string, string> = {}) {
    const other = await build(opts.loadConfig({ ...env, INSTANCE_ID: `${opts.service}-${apps.length + 1}`, ...more }))
    apps.push(other)
    return other
  }
  return { app: apps[0]!, config, url, iso, anotherInstance }
}
