import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { RedisClient } from './redis.js'
import type { Histogram, Registry } from 'prom-client'

/**
 * How hard a service is struggling, as it reports itself every second: the waiting room reads these
 * and slows admission while booking or payment are under pressure. One Redis hash, a field per
 * instance (`<service>:<instance>`), a JSON value; stale fields are ignored and pruned by readers.
 */
export const PRESSURE_KEY = 'pressure'

export interface PressureReport {
  service: string
  instance: string
  /** When it was measured (ms). */
  at: number
  /** p95 of the watched route over the last interval (ms), null without requests. */
  p95Ms: number | null
  /** Requests of the watched route in the interval. */
  samples: number
  /** Requests waiting for a database connection right now. */
  poolWaiters: number
  /** Requests shed with 503 in the interval. */
  shed: number
}

type Buckets = Map<number, number>

/** Cumulative bucket counts of one route and method, summed over status codes. */
async function bucketsOf(histogram: Histogram, route: string, method: string): Promise<Buckets> {
  const buckets: Buckets = new Map()
  for (const v of (await histogram.get()).values) {
    if (v.metricName !== 'http_request_duration_seconds_bucket' || v.labels.route !== route || v.labels.method !== method) continue
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le)
    buckets.set(le, (buckets.get(le) ?? 0) + v.value)
  }
  return buckets
}

/** The 95th percentile of what fell in the buckets between two reads, interpolated inside its bucket. */
export function p95OfDelta(before: Buckets, after: Buckets): { p95Ms: number | null; samples: number } {
  const bounds = [...after.keys()].sort((a, b) => a - b)
  const delta = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0))
  const samples = delta.at(-1) ?? 0
  if (samples <= 0) return { p95Ms: null, samples: 0 }
  const rank = 0.95 * samples
  for (let i = 0; i < bounds.length; i++) {
    if (delta[i]! < rank) continue
    const lower = i === 0 ? 0 : bounds[i - 1]!
    const upper = Number.isFinite(bounds[i]!) ? bounds[i]! : lower * 2
    const below = i === 0 ? 0 : delta[i - 1]!
    const inBucket = delta[i]! - below
    const share = inBucket > 0 ? (rank - below) / inBucket : 1
    return { p95Ms: Math.round((lower + (upper - lower) * share) * 1000), samples }
  }
  return { p95Ms: null, samples }
}

export interface PressureReporterOptions {
  redis: RedisClient
  registry: Registry
  service: string
  instance: string
  intervalMs: number
  /** The route whose latency says this service is struggling (e.g. POST /api/reservations). */
  watch?: { method: string; route: string }
}

/**
 * Reads the service's own metrics every interval (the request-duration histogram, the pool's
 * waiters, the shed counter) and writes one report: no work on the request path. A Redis that does
 * not answer costs a skipped report, nothing else.
 */
export function startPressureReporter(opts: PressureReporterOptions): { stop(): Promise<void> } {
  const histogram = opts.registry.getSingleMetric('http_request_duration_seconds') as Histogram | undefined
  let previous: Buckets = new Map()
  let previousShed = 0
  let running: Promise<void> | undefined

  async function gaugeValue(name: string): Promise<number> {
    const metric = opts.registry.getSingleMetric(name)
    if (!metric) return 0
    return (await metric.get()).values.reduce((sum, v) => sum + v.value, 0)
  }

  async function report() {
    let latency: { p95Ms: number | null; samples: number } = { p95Ms: null, samples: 0 }
    if (histogram && opts.watch) {
      const now = await bucketsOf(histogram, opts.watch.route, opts.watch.method)
      latency = p95OfDelta(previous, now)
      previous = now
    }
    const shedTotal = await gaugeValue('gateway_shed_total')
    const report: PressureReport = {
      service: opts.service,
      instance: opts.instance,
      at: Date.now(),
      ...latency,
      poolWaiters: await gaugeValue('db_pool_pending_requests'),
      shed: Math.max(0, shedTotal - previousShed),
    }
    previousShed = shedTotal
    if (opts.redis.status !== 'ready') return
    await opts.redis.hset(PRESSURE_KEY, `${opts.service}:${opts.instance}`, JSON.stringify(report))
  }

  const timer = setInterval(() => {
    if (running) return
    running = report()
      .catch(() => undefined)
      .finally(() => {
        running = undefined
      })
  }, opts.intervalMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}

/** Every report younger than `maxAgeMs`; older ones are deleted (an instance that stopped). */
export async function readPressure(redis: RedisClient, now: number, maxAgeMs: number): Promise<PressureReport[]> {
  const fields = await redis.hgetall(PRESSURE_KEY)
  const fresh: PressureReport[] = []
  const stale: string[] = []
  for (const [field, json] of Object.entries(fields)) {
    try {
      const report = JSON.parse(json) as PressureReport
      if (typeof report.at === 'number' && now - report.at <= maxAgeMs) fresh.push(report)
      else if (now - report.at > 60_000) stale.push(field)
    } catch {
      stale.push(field)
    }
  }
  if (stale.length > 0) await redis.hdel(PRESSURE_KEY, ...stale)
  return fresh
}

/** Reports `app`'s pressure from ready until close (`intervalMs` 0: off). Needs the redis and metrics plugins. */
export const pressurePlugin = fp(
  async (app: FastifyInstance, opts: { service: string; instance: string; intervalMs: number; watch?: { method: string; route: string } }) => {
    if (opts.intervalMs <= 0) return
    let reporter: { stop(): Promise<void> } | undefined
    app.addHook('onReady', async () => {
      reporter = startPressureReporter({ ...opts, redis: app.redis, registry: app.metrics })
    })
    app.addHook('preClose', async () => {
      await reporter?.stop()
    })
  },
  { name: 'pressure', dependencies: ['metrics', 'redis'] },
)
