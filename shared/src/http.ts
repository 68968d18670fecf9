import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, Server } from 'node:http'
import { trace } from '@opentelemetry/api'
import { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyHttpOptions, type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type, type Static } from 'typebox'
import { USER_ID_HEADER } from '@tickets/contracts/auth'
import { databaseUnavailable } from './db-errors.js'
import { AppError, ERROR_CODES, isAppError, problemType, type ErrorCode } from '@tickets/contracts/errors'
import { problemOnClientError } from './client-errors.js'
import { httpTimeoutProperties, loadConfig } from './config.js'
import { emptyJsonBody } from './json-body.js'
import { strictBodyValidation } from './strict-bodies.js'
import { loggerOptions } from './logging.js'
import { accessLog, noteProblem } from './access-log.js'
import { lazyRequestLogger } from './request-logger.js'
import { tracingOn } from './tracing-gear.js'

export { tracingOn }

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
    traceId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
)
export type Problem = Static<typeof ProblemSchema>

/** `$ref` to the shared problem schema, for route `response` maps (shows in the OpenAPI docs). */
export const ProblemRef = Type.Unsafe<Problem>({ $ref: 'Problem#' })

export function problemResponses(...statuses: number[]): Record<number, typeof ProblemRef> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemRef]))
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/

/** Accepts a well-formed X-Request-Id, otherwise makes one. */
export function requestIdFor(req: IncomingMessage): string {
  const header = req.headers['x-request-id']
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID()
}

/** The id of the trace this request belongs to: the active span's, else the correlation id. */
export function traceIdOf(request: FastifyRequest): string {
  const span = trace.getActiveSpan()
  if (span?.spanContext().traceId && span.spanContext().traceId !== '0'.repeat(32)) return span.spanContext().traceId
  return correlationIdOf(request.raw, request.headers.traceparent, String(request.id))
}

/**
 * The trace id of an untraced request (no collector, or it is down): the caller's traceparent's,
 * else the request id when it is already a trace-id-shaped UUID, else a hash of it, so the value is
 * always 32 hex digits (a client-chosen id like "A" must not yield "A000…").
 */
function correlationTraceId(traceparent: unknown, requestId: string): string {
  const match = typeof traceparent === 'string' ? TRACEPARENT.exec(traceparent) : null
  if (match?.[1]) return match[1]
  const id = requestId.replace(/-/g, '').toLowerCase()
  return /^[\da-f]{32}$/.test(id) ? id : createHash('sha256').update(requestId).digest('hex').slice(0, 32)
}

// Worked out once per request: the log binding, X-Trace-Id, a problem body and the proxy all ask.
// Kept on the request itself: a WeakMap entry per request costs the garbage collector more.
const CORRELATION_ID = Symbol('tickets.correlationId')
type WithCorrelationId = { [CORRELATION_ID]?: string }
function correlationIdOf(raw: object, traceparent: unknown, requestId: string): string {
  const holder = raw as WithCorrelationId
  return (holder[CORRELATION_ID] ??= correlationTraceId(traceparent, requestId))
}

/**
 * What an untraced hop passes on, so the next service reports the same trace id: the caller's own
 * traceparent when it sent a valid one, else one made from this request's correlation id.
 */
export function correlationTraceparent(raw: object, sent: unknown, requestId: string): string {
  if (typeof sent === 'string' && TRACEPARENT.test(sent)) return sent
  // randomUUID draws from a cached entropy pool; randomBytes would be a syscall per request.
  return `00-${correlationIdOf(raw, undefined, requestId)}-${randomUUID().slice(0, 8)}${randomUUID().slice(0, 8)}-00`
}

/** How long each listener lets a client take (commonConfigProperties' HTTP_* settings). */
export interface HttpTimeouts {
  HTTP_HEADERS_TIMEOUT_MS: number
  HTTP_REQUEST_TIMEOUT_MS: number
  HTTP_IDLE_TIMEOUT_MS: number
  HTTP_KEEP_ALIVE_TIMEOUT_MS: number
}

export interface ServerOptionsInput {
  service: string
  logLevel: string
  /** The HTTP_* settings; their defaults when left out. */
  timeouts?: HttpTimeouts
  bodyLimit?: number
  instance?: string | undefined
  /** Headers on the answers Node gives before a request exists (the gateway's security headers). */
  clientErrorHeaders?: Readonly<Record<string, string>>
}

const DEFAULT_TIMEOUTS: HttpTimeouts = loadConfig(Type.Object(httpTimeoutProperties), {})

function timeoutOptions(t: HttpTimeouts): Partial<FastifyHttpOptions<Server>> {
  const headersTimeout = Math.min(t.HTTP_HEADERS_TIMEOUT_MS, t.HTTP_REQUEST_TIMEOUT_MS)
  return {
    requestTimeout: t.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: t.HTTP_IDLE_TIMEOUT_MS,
    keepAliveTimeout: t.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    // Node looks for requests past their time only this often (30 s by default): without it a slow
    // client would keep its connection for up to 30 s longer than its timeout.
    http: { headersTimeout, requestTimeout: t.HTTP_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(1_000, headersTimeout) },
  }
}

/** Fastify options shared by every service: logger, request ids, timeouts, strict body validation. */
export function serverOptions(opts: ServerOptionsInput): FastifyHttpOptions<Server> {
  return {
    ...timeoutOptions(opts.timeouts ?? DEFAULT_TIMEOUTS),
    clientErrorHandler: problemOnClientError(opts.clientErrorHeaders),
    logger: loggerOptions({ service: opts.service, level: opts.logLevel, instance: opts.instance }),
    // Fastify's own two lines per request ("incoming request", "request completed") are replaced
    // by the one line of accessLog (access-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: requestIdFor,
    // Traced, the log mixin adds the span's ids; untraced, the correlation trace id stands in.
    childLoggerFactory: (logger, bindings, options, rawReq) => {
      const child = () => logger.child(tracingOn() ? bindings : { ...bindings, trace_id: correlationIdOf(rawReq, rawReq.headers.traceparent, String(bindings.reqId)) }, options)
      // A route with its own log level gets its child at once: the lazy logger decides by the parent's level.
      return options.level ? child() : lazyRequestLogger(logger, child)
    },
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    // Errors the router raises before any handler (malformed %-encoding, an over-long path segment)
    // would otherwise be Fastify's own JSON, not a problem.
    frameworkErrors: (err, request, reply) => {
      const code: ErrorCode = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'COMMON_URI_TOO_LONG' : 'COMMON_VALIDATION'
      return sendProblem(request, reply, byCode(code, code === 'COMMON_VALIDATION' ? 'The URL is not valid' : undefined))
    },
    // Unknown body fields are an error, not silently dropped: schemas say additionalProperties: false.
    // coerceTypes reads numbers and lists from the path, query and headers only (strict-bodies.ts).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    schemaController: strictBodyValidation(),
  }
}

interface ProblemInput {
  status: number
  code: string
  title: string
  detail: string
  extra?: Record<string, unknown> | undefined
  headers?: Record<string, string> | undefined
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, p: ProblemInput): FastifyReply {
  if (p.headers) reply.headers(p.headers)
  // Every 503 says when to come back: one nobody gave a time for (a dependency's failure passed on) says 1 s.
  if (p.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
  return reply
    .code(p.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({
      type: problemType(p.code),
      title: p.title,
      status: p.status,
      detail: p.detail,
      instance: request.url.split('?')[0],
      code: p.code,
      traceId: traceIdOf(request),
      ...p.extra,
    })
}

function byCode(code: ErrorCode, detail?: string): ProblemInput {
  const { status, title } = ERROR_CODES[code]
  return { status, code, title, detail: detail ?? title }
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'COMMON_BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'COMMON_BAD_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'COMMON_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'COMMON_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'COMMON_VALIDATION',
  FST_ERR_NOT_FOUND: 'COMMON_NOT_FOUND',
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'COMMON_VALIDATION',
  404: 'COMMON_NOT_FOUND',
  405: 'COMMON_METHOD_NOT_ALLOWED',
  413: 'COMMON_BODY_TOO_LARGE',
  415: 'COMMON_UNSUPPORTED_MEDIA_TYPE',
  429: 'COMMON_RATE_LIMITED',
  503: 'COMMON_OVERLOADED',
}

/** Maps anything thrown in a request to a problem: known codes as they are, the rest as a bare 500. */
export function toProblem(err: FastifyError | AppError | Error): ProblemInput {
  if (isAppError(err)) {
    return { status: err.status, code: err.code, title: err.title, detail: err.message, extra: err.extra, headers: err.headers }
  }
  const fe = err as FastifyError
  if (fe.validation) {
    const errors = fe.validation.map((v) => ({
      path: `${fe.validationContext ?? 'body'}${v.instancePath || ''}${
        v.keyword === 'additionalProperties' ? `/${String((v.params as { additionalProperty?: string }).additionalProperty)}` : ''
      }${v.keyword === 'required' ? `/${String((v.params as { missingProperty?: string }).missingProperty)}` : ''}`,
      message: v.keyword === 'additionalProperties' ? 'is not allowed' : (v.message ?? 'is not valid'),
    }))
    return { ...byCode('COMMON_VALIDATION', errors.map((e) => `${e.path} ${e.message}`).join('; ')), extra: { errors } }
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined
  if (mapped) return byCode(mapped)
  const status = fe.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'COMMON_VALIDATION'
    return { status, code, title: ERROR_CODES[code].title, detail: fe.message || ERROR_CODES[code].title }
  }
  if (status === 503) return byCode('COMMON_OVERLOADED')
  // A database that is saturated, gone or silent (from a Prisma call or a single statement alike)
  // is a 503 the client retries, never a 500.
  const db = databaseUnavailable(err)
  if (db) return { status: db.status, code: db.code, title: db.title, detail: db.message, headers: db.headers }
  return byCode('COMMON_INTERNAL', 'Something went wrong on our side; the trace id identifies it')
}

/**
 * One error and 404 handler for every service (RFC 9457 problem+json with the trace id), the
 * X-Request-Id echo, and the JSON parser that takes an empty body as none. Registered before the
 * routes: a route plugin registered earlier keeps Fastify's parser.
 */
export const problemDetails = fp(
  async (app: FastifyInstance) => {
    app.addSchema(ProblemSchema)
    await app.register(accessLog)
    await app.register(emptyJsonBody)
    // Callback-style hooks here and in the other per-request plumbing: an async hook costs every
    // request a promise and a microtask for work that never waits.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id)
      reply.header('x-trace-id', traceIdOf(request))
      // Marked so a tail-sampling collector always keeps failed requests.
      if (reply.statusCode >= 500) trace.getActiveSpan()?.setAttribute('tickets.error', true)
      done(null, payload)
    })
    app.setErrorHandler((err: FastifyError, request, reply) => {
      const problem = toProblem(err)
      // An unknown failure is an error with its stack; a known 5xx (shed, dependency down) is the
      // system protecting itself, counted in metrics: logging each at warn would flood the logs
      // exactly when the system is under the most pressure. Their code goes on the access line.
      if (problem.status >= 500 && problem.code === 'COMMON_INTERNAL') request.log.error({ err }, 'request failed')
      else noteProblem(request, { code: problem.code, detail: problem.detail })
      return sendProblem(request, reply, problem)
    })
    app.setNotFoundHandler((request, reply) => sendProblem(request, reply, byCode('COMMON_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)))
  },
  { name: 'problem-details', fastify: '5.x' },
)

export { AppError }
export { accessLog, quietWhenFine } from './access-log.js'

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The user the gateway authenticated. Services believe this header because the gateway signed it
 * (checked for every API request in service-app) after dropping any client-sent copy.
 */
export function userIdOf(request: FastifyRequest): string {
  const header = request.headers[USER_ID_HEADER]
  if (typeof header !== 'string' || !USER_ID.test(header)) throw new AppError('AUTH_MISSING_USER')
  return header
}
