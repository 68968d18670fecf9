import { trace } from '@opentelemetry/api'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createConnection } from 'mariadb'
import { mysqlUrl } from '@tickets/testkit'
import { parseMysqlUrl } from '../../src/migrate.js'

/** An OpenTelemetry SDK started for this test file, keeping every span in memory; shut `sdk` down after. */
export function inMemoryTracing(serviceName: string) {
  const exporter = new InMemorySpanExporter()
  const sdk = new NodeSDK({ serviceName, spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [], resourceDetectors: [] })
  sdk.start()
  return { exporter, sdk, tracer: trace.getTracer('test') }
}

/** Creates the test's own database on the shared MariaDB (outside any pool under test). */
export async function createDatabase(database: string): Promise<void> {
  const t = parseMysqlUrl(mysqlUrl('mysql'))
  const admin = await createConnection({ host: t.host, port: t.port, user: t.user, password: t.password })
  await admin.query(`CREATE DATABASE \`${database}\``)
  await admin.end()
}
