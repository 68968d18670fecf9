import { readdirSync, readFileSync } from 'node:fs'
import { buildApp as buildBookingApp } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfigSchema } from '@tickets/booking-service/config'
import { migrate as migrateBooking } from '@tickets/booking-service/ops'
import { buildApp as buildGatewayApp } from '@tickets/gateway/app'
import { ConfigSchema as GatewayConfigSchema } from '@tickets/gateway/config'
import { buildApp as buildPaymentApp } from '@tickets/payment-service/app'
import { ConfigSchema as PaymentConfigSchema } from '@tickets/payment-service/config'
import { migrate as migratePayment } from '@tickets/payment-service/ops'
import { buildApp as buildQueueApp } from '@tickets/queue-service/app'
import { ConfigSchema as QueueConfigSchema } from '@tickets/queue-service/config'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { exportedNames, metricNamesIn, ruleExpressions, testSeriesNames } from './helpers/promql-names.js'

const deploy = new URL('../../deploy/', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, deploy), 'utf8')

// Series Prometheus itself makes for every target, not any service.
const PROMETHEUS_MADE = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'ALERTS', 'ALERTS_FOR_STATE'])

const iso = isolation(import.meta.url)
const bookingDb = mysqlUrl(iso.database('booking'))
const paymentDb = mysqlUrl(iso.database('payment'))
await Promise.all([migrateBooking(bookingDb), migratePayment(paymentDb)])
const env = {
  INTERNAL_SECRET: TEST_INTERNAL_SECRET,
  REDIS_PREFIX: iso.redisPrefix,
  NATS_NAMESPACE: iso.natsNamespace,
  LOG_LEVEL: 'silent',
  AUTH_JWT_SECRET: 'a-test-secret-that-is-long-enough-for-hs256',
}
// Each service as `npm start` runs it: default Node metrics on, consumers and loops running.
const apps: Record<string, FastifyInstance> = {
  gateway: await buildGatewayApp(loadConfig(GatewayConfigSchema, env)),
  queue: await buildQueueApp(loadConfig(QueueConfigSchema, env)),
  booking: await buildBookingApp(loadConfig(BookingConfigSchema, { ...env, MYSQL_URL: bookingDb })),
  payment: await buildPaymentApp(loadConfig(PaymentConfigSchema, { ...env, MYSQL_URL: paymentDb })),
}
afterAll(async () => {
  await Promise.all(Object.values(apps).map((a) => a.close()))
  await Promise.all([dropDatabase(bookingDb), dropDatabase(paymentDb)])
})

const exported = new Set<string>()
for (const app of Object.values(apps)) {
  const res = await app.admin.inject({ method: 'GET', url: '/metrics' })
  for (const name of exportedNames(res.body)) exported.add(name)
}
const missing = (names: Iterable<string>) => [...new Set(names)].filter((n) => !exported.has(n) && !PROMETHEUS_MADE.has(n)).sort()

describe('every metric the alerts and the dashboard read is exported by some service', () => {
  it('the PromQL reader finds metric names, not functions, labels, keywords or durations', () => {
    expect(
      metricNamesIn('histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{status_code=~"5.."}[5m] offset 1h))) > 1 and on (instance) up == 0'),
    ).toEqual(['http_request_duration_seconds_bucket', 'up'])
    expect(metricNamesIn('max by (instance) (redis_memory_used_bytes / (redis_memory_max_bytes > 0)) or vector(0)')).toEqual(['redis_memory_used_bytes', 'redis_memory_max_bytes'])
    expect(metricNamesIn('label_values(http_request_duration_seconds_count, service)')).toEqual(['http_request_duration_seconds_count'])
    expect(exportedNames('# TYPE db_slow_queries counter\n# TYPE d histogram\nplain{a="1"} 1\n')).toEqual(
      new Set(['db_slow_queries_total', 'db_slow_queries_created', 'db_slow_queries', 'd_bucket', 'd_sum', 'd_count', 'd_created', 'plain']),
    )
  })

  it('alert rules (deploy/prometheus/alerts.yml)', () => {
    const exprs = ruleExpressions(read('prometheus/alerts.yml'))
    expect(exprs.length).toBeGreaterThan(10)
    expect(missing(exprs.flatMap(metricNamesIn))).toEqual([])
  })

  it('the Grafana dashboards (deploy/grafana/*.json)', () => {
    type Dashboard = { panels: { targets?: { expr?: string }[] }[]; templating?: { list?: { type?: string; query?: unknown }[] } }
    const dashboards = readdirSync(new URL('grafana/', deploy))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(read(`grafana/${f}`)) as Dashboard)
    const exprs = dashboards
      .flatMap((d) => [
        ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')),
        ...(d.templating?.list ?? []).map((v) => (v.type === 'query' && typeof v.query === 'string' ? v.query : '')),
      ])
      .filter(Boolean)
    expect(exprs.length).toBeGreaterThan(10)
    expect(missing(exprs.flatMap(metricNamesIn))).toEqual([])
  })

  it('the promtool unit tests feed only series that exist', () => {
    const names = testSeriesNames(read('prometheus/tests/alerts.test.yml'))
    expect(names.length).toBeGreaterThan(10)
    expect(missing(names)).toEqual([])
  })
})
