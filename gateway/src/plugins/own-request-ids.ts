import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** What a client could use to name our request or join our trace to one of its own. */
const CLIENT_CORRELATION_HEADERS = ['x-request-id', 'traceparent', 'tracestate', 'baggage'] as const

/**
 * The gateway starts each request's id and trace itself: a client's X-Request-Id, traceparent,
 * tracestate and baggage are dropped as the request arrives. They would otherwise name log lines and
 * traces after the client's choice, reach the services and, traced, decide sampling. Dropped in the
 * server's own `request` event, so no one (Fastify, the request logger, the HTTP instrumentation,
 * which reads the trace context in that same event) sees them.
 */
export default fp(
  async (app: FastifyInstance) => {
    const server = app.server
    const emit = server.emit as (event: string | symbol, ...args: unknown[]) => boolean
    server.emit = function emitWithOwnIds(this: typeof server, event: string | symbol, ...args: unknown[]) {
      if (event === 'request') {
        const headers = (args[0] as IncomingMessage).headers
        for (const name of CLIENT_CORRELATION_HEADERS) delete headers[name]
      }
      return emit.call(this, event, ...args)
    } as typeof server.emit
  },
  { name: 'own-request-ids' },
)
