import { loadConfig } from '@tickets/shared/config'
import { buildApp } from '../dist/app.js'
import { ConfigSchema } from '../dist/config.js'

/**
 * A gateway for a benchmark, in front of one upstream for every service, listening on a free port.
 * No global rate limit and no shedding: the load generator runs in this process, and its own work
 * would read as gateway overload.
 */
export async function startBenchGateway(upstreamUrl, env) {
  const config = loadConfig(ConfigSchema, {
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `bench:${process.pid}:`,
    LOG_LEVEL: 'silent',
    INTERNAL_SECRET: 'a-bench-internal-secret-long-enough-too',
    QUEUE_URLS: upstreamUrl,
    BOOKING_URLS: upstreamUrl,
    PAYMENT_URLS: upstreamUrl,
    RATE_LIMIT_GLOBAL_MAX: '100000000',
    SHED_MAX_EVENT_LOOP_UTILIZATION: '1',
    SHED_JOIN_MAX_EVENT_LOOP_UTILIZATION: '1',
    SHED_MAX_EVENT_LOOP_DELAY_MS: '60000',
    SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '60000',
    ...env,
  })
  const gateway = await buildApp(config, { defaultMetrics: false })
  const gatewayUrl = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return { gateway, gatewayUrl }
}
