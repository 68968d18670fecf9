import proxy from '@fastify/http-proxy'
import { USER_ID_HEADER } from '@tickets/contracts/auth'
import { AppError } from '@tickets/contracts/errors'
import { GATEWAY_SIGNATURE_HEADER, gatewayKey, signGatewayRequest, SIGNED_HEADERS } from '@tickets/contracts/gateway-signature'
import { correlationTraceparent, tracingOn } from '@tickets/shared/http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import type { SwitchBoard } from '../adapters/redis-switches.js'
import type { UpstreamPool } from '../domain/upstream-pool.js'
import { createUpstreamAgent } from '../adapters/upstream-agent.js'
import type { LocalAnswer } from './waiting-room.js'
import { createRouteMatcher, prefixesOf, type DeadlineClass, type PublicRoute, type RouteMatch, type ServiceName } from '../domain/route-table.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The row of the public route table this request matched (set in onRequest). */
    routeMatch: RouteMatch | null
    publicRoute: PublicRoute | null
    /** Headers that gates (e.g. the queue gate) add for the service; set only by the gateway. */
    upstreamHeaders: Record<string, string> | null
    /** The instance this request is being sent to (and the one that failed before, on a retry). */
    proxyAttempt: ProxyAttempt | null
  }
}

interface ProxyAttempt {
  dest: string
  upstream: string
  /** When the gateway stops waiting for this attempt (Unix ms): signed for the service, which bounds its work by it. */
  deadlineMs: number
  /** When the route's deadline ends for the whole request, a retry included (performance.now() ms). */
  until: number
  failed: string | undefined
  /** The route's reply-from options, for a retry. */
  fixed: object
}

/**
 * A check that runs on every proxied route after authentication, in order. It refuses by throwing
 * an AppError, and may add headers for the service with `request.upstreamHeaders`. The queue gate
 * is one: it looks at `route.queue`.
 */
export type Gate = (request: FastifyRequest, route: PublicRoute) => Promise<void>

export interface ProxyOptions {
  routes: readonly PublicRoute[]
  pools: Record<ServiceName, UpstreamPool>
  /** How long the gateway waits for the service, by the route's class (its retry included). */
  deadlinesMs: Record<DeadlineClass, number>
  retryAfterSeconds: number
  /** How long a set of connections to the services takes new requests (UPSTREAM_CONNECTION_TTL_MS). */
  connectionTtlMs: number
  /** The key of the signature on what the gateway asserts to the services (INTERNAL_SECRET). */
  internalSecret: string
  switches: SwitchBoard
  gates: readonly Gate[]
  /** What answers the routes the table lets the gateway answer itself; without one, the service answers. */
  localAnswers?: Partial<Record<NonNullable<PublicRoute['gatewayAnswers']>, LocalAnswer>>
}

/** Headers only the gateway may set: any copy a client sends is dropped. */
const GATEWAY_HEADERS = [...SIGNED_HEADERS, GATEWAY_SIGNATURE_HEADER]
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i

/** Matches each request against the public route table first, so shedding and limits know its class. */
export const routeMatching = fp(
  async (app: FastifyInstance, opts: { routes: readonly PublicRoute[] }) => {
    const match = createRouteMatcher(opts.routes)
    app.decorateRequest('routeMatch', null)
    app.decorateRequest('publicRoute', null)
    app.decorateRequest('upstreamHeaders', null)
    app.decorateRequest('proxyAttempt', null)
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.url.startsWith('/api/')) {
        request.routeMatch = match(request.method, request.url)
        if (request.routeMatch.kind === 'route') request.publicRoute = request.routeMatch.route
      }
      done()
    })
  },
  { name: 'route-matching' },
)

type UpstreamFailure = 'unavailable' | 'timeout'

/** A retry with less time than this left would only add a request the caller does not wait for. */
const MIN_RETRY_MS = 50

function classify(error: { code?: string; statusCode?: number }): UpstreamFailure {
  return error.statusCode === 504 && error.code !== 'UND_ERR_CONNECT_TIMEOUT' ? 'timeout' : 'unavailable'
}

/**
 * Proxies the public routes to the services with @fastify/http-proxy: one registration per path
 * prefix, each request to the next instance that answers, within the route's deadline. Upstream
 * failures become problems (503 with Retry-After, or 504 at the deadline), never a raw 502. Only
 * idempotent reads are retried, once, on another instance: the first attempt then gets half the
 * deadline, so that a hung instance costs the fan at most the deadline, not a hang.
 */
export async function proxyRoutes(app: FastifyInstance, opts: ProxyOptions) {
  const upstreamErrors = new Counter({
    name: 'gateway_upstream_errors_total',
    help: 'Requests a service did not answer, by service and failure',
    labelNames: ['upstream', 'failure'],
    registers: [app.metrics],
  })
  const retries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Idempotent reads retried on another instance',
    labelNames: ['upstream'],
    registers: [app.metrics],
  })

  const internalKey = gatewayKey(opts.internalSecret)
  const agent = createUpstreamAgent({ connections: 128, connectTimeoutMs: opts.deadlinesMs.read, connectionTtlMs: opts.connectionTtlMs })
  app.addHook('onClose', () => agent.close())

  /** Which route and who is calling, decided before the body is read: a stranger's body is never waited for. */
  async function admitCaller(request: FastifyRequest, reply: FastifyReply) {
    const match = request.routeMatch
    const path = request.url.split('?', 1)[0] ?? ''
    if (!match || match.kind === 'none') throw new AppError('COMMON_NOT_FOUND', `No route ${request.method} ${path}`)
    if (match.kind === 'method-not-allowed') {
      reply.header('allow', match.allow.join(', '))
      throw new AppError('COMMON_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}`)
    }
    if (DOT_SEGMENT.test(path)) throw new AppError('COMMON_VALIDATION', 'Path segments "." and ".." are not allowed')
    const route = match.route
    if (route.feature === 'ranking' && !opts.switches.current().rankingEnabled) {
      throw new AppError('COMMON_FEATURE_DISABLED', 'The ranking is switched off for now', { headers: { 'retry-after': '60' } })
    }
    // Per address, before the token is even verified: a flood of joins is refused from memory.
    if (route.rateLimit === 'token') await app.checkRouteLimit(request, reply, 'token')
    if (route.access === 'user') await app.authenticate(request)
  }

  /** What needs the body or comes after the caller is known: the gates, per-user limits, local answers. */
  async function admit(request: FastifyRequest, reply: FastifyReply) {
    const route = request.publicRoute!
    if (route.rateLimit !== 'hold' && route.rateLimit !== 'payment') {
      await runGates(request, route)
      const presale = route.presale === true && (await app.checkPresaleLimit(request, reply))
      const local = !presale && route.gatewayAnswers && opts.localAnswers?.[route.gatewayAnswers]
      // A reply sent here ends the request: http-proxy's handler never runs.
      if (local && (await local(request, reply))) return reply
      return
    }
    // The per-user limit and the gates (the queue token's revocation check) both ask Redis: asked
    // together they share one round trip. The limit's refusal still comes first.
    const [limit, gates] = await Promise.allSettled([app.checkRouteLimit(request, reply, route.rateLimit), runGates(request, route)])
    if (limit.status === 'rejected') throw limit.reason
    if (gates.status === 'rejected') throw gates.reason
  }

  async function runGates(request: FastifyRequest, route: PublicRoute) {
    for (const gate of opts.gates) await gate(request, route)
  }

  app.addHook('preParsing', async (request, reply, payload) => {
    if (!request.routeMatch) return payload
    try {
      await admitCaller(request, reply)
    } catch (err) {
      // Refused before its body was read: the connection closes after the answer instead of
      // reading (and waiting for) a body nobody will use.
      if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined) reply.header('connection', 'close')
      throw err
    }
    return payload
  })

  // A service instance that is shutting down answers requests already on its connections with
  // Fastify's bare 503 (no problem body, no Retry-After; seen in drill 3.2.3's restarts): the fan is
  // still told when to come back, and the instance is skipped for the ejection time.
  app.addHook('onSend', (request, reply, payload, done) => {
    // A fan's own data (points, payments, holds, place in line) is never kept by a shared cache or the browser.
    if (request.publicRoute?.access === 'user') reply.header('cache-control', 'no-store')
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(opts.retryAfterSeconds))
      const attempt = request.proxyAttempt
      if (attempt && request.publicRoute) opts.pools[request.publicRoute.service].markFailed(attempt.upstream)
    }
    done(null, payload)
  })

  // reply-from reads its options as plain properties, so each request's own (the body) sit on an
  // object whose prototype holds the options that never change: nothing is copied per request.
  const ownOptions = {
    getUpstream: (request: FastifyRequest) => request.proxyAttempt!.upstream,
    // reply-from would retry a GET answered 503 up to ten times; retries are decided here instead.
    retryDelay: () => null,
    onError: (reply: FastifyReply, { error }: { error: { code?: string; statusCode?: number } }) => upstreamFailed(reply, error),
  }

  const mayRetry = (request: FastifyRequest, route: PublicRoute) => route.retryable && (request.method === 'GET' || request.method === 'HEAD')
  const unavailable = (route: PublicRoute) =>
    new AppError('COMMON_UPSTREAM_UNAVAILABLE', `The ${route.service} service is unavailable`, { headers: { 'retry-after': String(opts.retryAfterSeconds) } })

  function upstreamFailed(reply: FastifyReply, error: { code?: string; statusCode?: number }) {
    const request = reply.request
    const route = request.publicRoute!
    const pool = opts.pools[route.service]
    const { dest, upstream, until, failed, fixed } = request.proxyAttempt!
    const failure = classify(error)
    // A refusal or a reset says the instance is gone. A timeout alone does not: a slow instance
    // would be taken out of a one-instance pool for nothing; the probes find a hung one.
    if (failure === 'unavailable') pool.markFailed(upstream)
    upstreamErrors.inc({ upstream: route.service, failure })
    request.log.warn({ err: error, upstream, failure }, 'upstream failed')
    if (failed === undefined && mayRetry(request, route) && pool.hasAnswering(upstream) && until - performance.now() >= MIN_RETRY_MS) {
      retries.inc({ upstream: route.service })
      forward(request, reply, dest, fixed, upstream)
      return
    }
    reply.send(
      failure === 'timeout'
        ? new AppError('COMMON_UPSTREAM_TIMEOUT', `The ${route.service} service did not answer within ${opts.deadlinesMs[route.deadline]} ms`, {
            headers: { 'retry-after': String(opts.retryAfterSeconds) },
          })
        : unavailable(route),
    )
  }

  /** `fixed`: a route's reply-from options (http-proxy's and the gateway's), made once per route. */
  function forward(request: FastifyRequest, reply: FastifyReply, dest: string, fixed: object, failed?: string) {
    const route = request.publicRoute!
    const pool = opts.pools[route.service]
    const upstream = pool.pick(failed)
    // Every instance is out (none answered its probe or its last request): no wait for a deadline.
    if (upstream === undefined) {
      reply.send(unavailable(route))
      return
    }
    const now = performance.now()
    const until = request.proxyAttempt?.until ?? now + opts.deadlinesMs[route.deadline]
    const left = until - now
    const timeoutMs = Math.max(1, Math.floor(failed === undefined && mayRetry(request, route) && pool.hasAnswering(upstream) ? left / 2 : left))
    request.proxyAttempt = { dest, upstream, deadlineMs: Date.now() + timeoutMs, until, failed, fixed }
    const options = Object.create(fixed) as Record<string, unknown>
    options.timeout = timeoutMs
    if (request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      // The body was parsed (and size-checked) here; send it re-encoded, also a falsy JSON value (null, 0, "").
      const type = request.headers['content-type']
      const isJson = type !== undefined && /json/i.test(type)
      options.body = isJson ? JSON.stringify(request.body) : String(request.body)
      options.contentType = isJson ? 'application/json' : (type ?? 'text/plain')
    }
    reply.from(dest, options as Parameters<FastifyReply['from']>[1])
  }

  for (const [prefix, service] of prefixesOf(opts.routes)) {
    let fixed: object | undefined
    await app.register(proxy, {
      upstream: '',
      prefix,
      rewritePrefix: prefix,
      // Bodies are parsed by the gateway (JSON, size limit, bad JSON refused here), not streamed raw.
      proxyPayloads: false,
      // reply-from would write two info lines per request ("fetching from remote server",
      // "response received"); the shared access line already says how the request ended.
      disableRequestLogging: true,
      // Each attempt sets its own timeout (forward), which the agent keeps.
      undici: agent,
      preHandler: admit,
      handler: (request, reply, dest, options) => forward(request, reply, dest, (fixed ??= { ...options, ...ownOptions })),
      replyOptions: {
        // Only for http-proxy's destination check: `forward` picks the instance for each attempt.
        getUpstream: () => opts.pools[service].urls[0]!,
        // reply-from hands over its own copy of the client's headers: changed in place.
        rewriteRequestHeaders: (request, headers) => {
          const out: Record<string, string | string[] | undefined> = headers
          // A client must never speak as another user or claim a concert: only the gateway sets these.
          for (const h of GATEWAY_HEADERS) delete out[h]
          if (tracingOn()) {
            // The undici instrumentation injects the right traceparent; two values would break the trace.
            delete out.traceparent
            delete out.tracestate
          } else {
            out.traceparent = correlationTraceparent(request.raw, request.headers.traceparent, String(request.id))
          }
          // A GET/HEAD body is never read or forwarded: its length header would make the upstream wait for it.
          // A request that came without a body (a DELETE with a JSON content type, as k6 sends) goes on without one.
          if (request.method === 'GET' || request.method === 'HEAD' || request.body === undefined) {
            delete out['content-length']
            delete out['transfer-encoding']
            delete out['content-type']
          }
          out['x-request-id'] = String(request.id)
          if (request.userId) out[USER_ID_HEADER] = request.userId
          if (request.upstreamHeaders) Object.assign(out, request.upstreamHeaders)
          out[GATEWAY_SIGNATURE_HEADER] = signGatewayRequest(internalKey, { method: request.method, url: request.url, headers: out }, request.proxyAttempt!.deadlineMs)
          return out
        },
      },
    })
  }
}
