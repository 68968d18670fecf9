import proxy from '@fastify/http-proxy'
import { QUEUE_CONCERT_HEADER, USER_ID_HEADER } from '@tickets/shared/auth'
import type { FastifyInstance, FastifyRequest } from 'fastify'

export interface UpstreamRoute {
  prefix: string
  upstreams: string[]
  /** Requests that need no user (catalogue reads). */
  isPublic?: (request: FastifyRequest) => boolean
}

function roundRobin(upstreams: string[]) {
  let next = 0
  return () => upstreams[next++ % upstreams.length]!
}

/** Proxies `/api/<prefix>` to a service, balanced per request, with the user id taken from the token only. */
export async function proxyRoutes(app: FastifyInstance, opts: { routes: UpstreamRoute[]; timeoutMs: number }) {
  for (const route of opts.routes) {
    const pick = roundRobin(route.upstreams)
    await app.register(proxy, {
      upstream: route.upstreams[0]!,
      prefix: route.prefix,
      rewritePrefix: route.prefix,
      http: { requestOptions: { timeout: opts.timeoutMs } },
      preHandler: async (request) => {
        if (!route.isPublic?.(request)) await app.authenticate(request)
        await app.queueGate(request)
      },
      replyOptions: {
        getUpstream: () => pick(),
        rewriteRequestHeaders: (request, headers) => {
          const out: Record<string, string | string[] | undefined> = { ...headers }
          // A client must never speak as another user: only the verified token sets this header.
          delete out[USER_ID_HEADER]
          delete out[QUEUE_CONCERT_HEADER]
          // The undici instrumentation injects the right traceparent; two values would break the trace.
          delete out.traceparent
          delete out.tracestate
          out['x-request-id'] = String(request.id)
          if (request.userId) out[USER_ID_HEADER] = request.userId
          if (request.queueConcertId) out[QUEUE_CONCERT_HEADER] = request.queueConcertId
          return out
        },
      },
    })
  }
}
