import type { FastifyInstance, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'

/** What a check resolves to when it chose not to ask (see DEPENDENCY_BUSY); anything else is UP. */
export const DEPENDENCY_BUSY = Symbol('dependency busy')

/**
 * One real ping of a dependency. It resolves DEPENDENCY_BUSY instead of pinging when the ping would
 * queue behind real work (a database pool with no idle connection): the dependency is in use, and the
 * work waiting for it matters more than knowing.
 */
export type DependencyCheck = () => Promise<unknown>
export type DependencyStatus = { status: 'UP' | 'DOWN' | 'BUSY'; latencyMs: number; error?: string }
export interface DependencyHealth {
  /** DOWN when any dependency is DOWN; a BUSY one counts as answering. */
  status: 'UP' | 'DOWN'
  dependencies: Record<string, DependencyStatus>
  checkedAt: string
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

export async function checkDependencies(checks: Record<string, DependencyCheck>, timeoutMs: number): Promise<DependencyHealth> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, DependencyStatus]> => {
      const started = performance.now()
      const latencyMs = () => Math.round(performance.now() - started)
      try {
        const answer = await withTimeout(Promise.resolve().then(check), timeoutMs)
        return [name, { status: answer === DEPENDENCY_BUSY ? 'BUSY' : 'UP', latencyMs: latencyMs() }]
      } catch (err) {
        return [name, { status: 'DOWN', latencyMs: latencyMs(), error: reasonOf(err, timeoutMs) }]
      }
    }),
  )
  const down = entries.some(([, s]) => s.status === 'DOWN')
  return { status: down ? 'DOWN' : 'UP', dependencies: Object.fromEntries(entries), checkedAt: new Date().toISOString() }
}

export interface DependencyHealthOptions {
  checks: Record<string, DependencyCheck>
  /** How long a ping may take before the dependency counts as DOWN. */
  timeoutMs: number
  /** How long one round of pings answers every caller: probes, scrapes and people share it. */
  cacheMs: number
}

/**
 * The dependencies' health, pinged at most once per `cacheMs` however many ask: callers that come
 * while a round is under way wait for that round instead of starting another.
 */
export function createDependencyHealth(opts: DependencyHealthOptions): { read(): Promise<DependencyHealth> } {
  let last: { at: number; result: DependencyHealth } | undefined
  let inFlight: Promise<DependencyHealth> | undefined
  return {
    read() {
      if (last && performance.now() - last.at < opts.cacheMs) return Promise.resolve(last.result)
      inFlight ??= checkDependencies(opts.checks, opts.timeoutMs)
        .then((result) => {
          last = { at: performance.now(), result }
          return result
        })
        .finally(() => {
          inFlight = undefined
        })
      return inFlight
    },
  }
}

/** Operational routes: hidden from the OpenAPI docs, not rate limited, not traced. */
export const OPERATIONAL_ROUTE = { schema: { hide: true } as FastifySchema, config: { rateLimit: false, otel: false } }

/** The public port's only operational route: the process answers. It calls no dependency. */
export const liveRoute = fp(
  async (app: FastifyInstance) => {
    app.get('/health', OPERATIONAL_ROUTE, async () => ({ status: 'UP' }))
  },
  { name: 'live-route', fastify: '5.x' },
)
