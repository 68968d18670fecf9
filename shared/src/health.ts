import type { FastifyInstance, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge, type Registry } from 'prom-client'

export type DependencyCheck = () => Promise<unknown>
export type DependencyStatus = { status: 'UP' | 'DOWN'; latencyMs: number; error?: string }

export interface HealthOptions {
  /** One real ping per dependency (database, redis, nats, upstream services). */
  checks: Record<string, DependencyCheck>
  timeoutMs: number
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Why a check failed, in words that name no address, host or URL of ours (the answer may be public). */
function reasonOf(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && err.message === `no answer within ${timeoutMs} ms`) return err.message
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : 'not ready'
}

export async function checkDependencies(checks: Record<string, DependencyCheck>, timeoutMs: number) {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyStatus]> => {
      const started = performance.now()
      try {
        await withTimeout(Promise.resolve().then(check), timeoutMs)
        return [name, { status: 'UP', latencyMs: Math.round(performance.now() - started) }]
      } catch (err) {
        return [name, { status: 'DOWN', latencyMs: Math.round(performance.now() - started), error: reasonOf(err, timeoutMs) }]
      }
    }),
  )
  const dependencies = Object.fromEntries(entries)
  const up = entries.every(([, s]) => s.status === 'UP')
  return { status: up ? ('UP' as const) : ('DOWN' as const), dependencies }
}

/** `/health` and `/health/live` (the process answers) and `/health/ready` (every dependency pinged). */
export const healthRoutes = fp(
  async (app: FastifyInstance, opts: HealthOptions) => {
    // hidden from the OpenAPI docs: operational, not part of the public API
    const live = { schema: { hide: true } as FastifySchema, config: { rateLimit: false, otel: false } }
    app.get('/health', live, async () => ({ status: 'UP' }))
    app.get('/health/live', live, async () => ({ status: 'UP' }))
    const registry = (app as FastifyInstance & { metrics?: Registry }).metrics
    if (registry) {
      // Scraping pings the dependencies too, so an alert fires even when nobody polls readiness.
      new Gauge({
        name: 'dependency_up',
        help: 'Whether a dependency answered its readiness ping (1) or not (0)',
        labelNames: ['dependency'],
        registers: [registry],
        async collect() {
          const result = await checkDependencies(opts.checks, opts.timeoutMs)
          for (const [name, s] of Object.entries(result.dependencies)) this.set({ dependency: name }, s.status === 'UP' ? 1 : 0)
        },
      })
    }
    app.get('/health/ready', live, async (_request, reply) => {
      const result = await checkDependencies(opts.checks, opts.timeoutMs)
      return reply.code(result.status === 'UP' ? 200 : 503).send(result)
    })
  },
  { name: 'health-routes', fastify: '5.x' },
)
