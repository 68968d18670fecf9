import { buildDatabaseTestApp } from '@tickets/testkit/test-app'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation } from '@tickets/testkit'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'
import { migrate } from '../../src/ops.js'

/** A booking app on its own migrated database, Redis prefix and NATS namespace; closed and dropped after the file. */
export function buildTestApp(fileUrl: string, overrides: Record<string, string> = {}, options: Omit<BuildOptions, 'defaultMetrics'> = {}) {
  return buildDatabaseTestApp({
    service: 'booking',
    loadConfig: (env) => loadConfig(ConfigSchema, env),
    migrate,
    dropDatabase,
    buildApp,
    iso: isolation(fileUrl),
    overrides,
    options,
  })
}
