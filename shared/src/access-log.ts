import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

const UNLOGGED_ROUTES = new Set(['/health', '/health/ready', '/health/dependencies', '/metrics'])
// The problem a request was answered with, for its access line (kept on the request, like the correlation id).
const PROBLEM = Symbol('tickets.problem')
type WithProblem = { [PROBLEM]?: { code: string; detail: string } }
const QUIET = Symbol('tickets.quietWhenFine')
type Quiet = { [QUIET]?: true }
/** A quiet request answered faster than this still gets its access line at info. */
const QUIET_SLOW_MS = 1_000

/** The problem a request was answered with, written on its access line. */
export function noteProblem(request: FastifyRequest, problem: { code: string; detail: string }): void {
  ;(request as WithProblem)[PROBLEM] = problem
}

/**
 * Marks a request whose access line is written at debug when it was answered well (below 400, within
 * a second): the waiting room's joins and polls, which are most of opening day's requests and each
 * counted in the metrics (docs/decisions/quiet-waiting-room-access-lines.md).
 */
export function quietWhenFine(request: FastifyRequest): void {
  ;(request as Quiet)[QUIET] = true
}

/**
 * One line per request, when it is answered: method, route template, status and time, with the
 * request's reqId and trace_id. Probes and scrapes write none: they would be most of the lines.
 */
export const accessLog = fp(
  async (app: FastifyInstance) => {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url
      if (route !== undefined && UNLOGGED_ROUTES.has(route)) return done()
      const fine = (request as Quiet)[QUIET] === true && reply.statusCode < 400 && reply.elapsedTime < QUIET_SLOW_MS
      if (fine && !(request.log as FastifyBaseLogger & { isLevelEnabled(level: string): boolean }).isLevelEnabled('debug')) return done()
      request.log[fine ? 'debug' : 'info'](
        {
          method: request.method,
          route: route ?? null,
          url: route === undefined ? request.url.split('?', 1)[0] : undefined,
          statusCode: reply.statusCode,
          responseTime: Math.round(reply.elapsedTime * 10) / 10,
          ...(request as WithProblem)[PROBLEM],
        },
        'request completed',
      )
      done()
    })
  },
  { name: 'access-log', fastify: '5.x' },
)
