import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError } from '@tickets/contracts/errors'
import { MAX_CHALLENGE_DIFFICULTY, MIN_CHALLENGE_DIFFICULTY } from '@tickets/contracts/queue-challenge'
import { recordChange } from '@tickets/contracts/operator-audit'
import { consolePagesDir } from '@tickets/web/pages'
import type { RedisClient } from '@tickets/shared/redis'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { readSwitches, writeSwitches, type Switches } from './adapters/redis-switches.js'
import { urlList, type Config } from './config.js'
import { createConcertTitles } from './operator/concert-titles.js'
import { consoleRoutes, operatorOf } from './operator/console-routes.js'
import { createTracesTail } from './operator/traces-tail.js'
import staticPages from './plugins/static-pages.js'

export const OPERATOR_SECRET_HEADER = 'x-operator-secret'

const SwitchesSchema = Type.Object({
  rankingEnabled: Type.Boolean(),
  tokenLimitPerSecond: Type.Union([Type.Integer(), Type.Null()]),
  /** Difficulty (bits) by concert, for concerts whose joins need a proof of work. */
  challenges: Type.Record(Type.String(), Type.Integer()),
})
const ConcertParams = Type.Object({ concertId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })

async function viaRedis(operation: () => Promise<Switches>) {
  try {
    const switches = await operation()
    return { ...switches, challenges: Object.fromEntries(switches.challenges) }
  } catch (err) {
    throw new AppError('COMMON_DEPENDENCY_DOWN', 'Redis did not take the change; nothing was switched', { cause: err, headers: { 'retry-after': '1' } })
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

export interface OperatorSwitchesOptions {
  secret: string
  /** The gateway's Redis client (its owner closes it). */
  redis: RedisClient
  /** What the operator console reads: the upstreams, the traces file, Alertmanager, Prometheus. */
  config: Config
}

/**
 * The operator switches, registered on the gateway's admin listener (ADMIN_PORT, loopback by
 * default), so no public route, proxy or header trick can reach them. Every request must carry
 * OPERATOR_SECRET. A change is written to Redis, where every gateway instance reads it within
 * SWITCH_CACHE_MS. It writes through Redis rather than to this instance alone so that operators
 * need to reach one instance, and the secret (not Redis access) is what authorises a change.
 * Encapsulated: the secret guards these routes only, not the listener's readiness or metrics.
 */
export const operatorSwitches: FastifyPluginAsyncTypebox<OperatorSwitchesOptions> = async (app, opts) => {
  const { redis, config } = opts
  const expected = digest(opts.secret)
  // The console's routes read Redis as every route of the gateway does; here, in this context only.
  app.decorate<RedisClient>('redis', redis)

  app.addHook('onRequest', async (request: FastifyRequest) => {
    // The console's page and scripts hold no data: the secret guards what they ask for. Judged by
    // the route matched, not the raw URL, so no spelling of a path reaches an API route without it.
    const route = request.routeOptions.url
    if (route === '/console' || (route?.startsWith('/console/') && !route.startsWith('/console/api/'))) return
    const given = request.headers[OPERATOR_SECRET_HEADER]
    // Compare digests in constant time: the secret's length and prefix must not leak through timing.
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      request.log.warn({ ip: request.ip }, 'operator request refused')
      throw new AppError('AUTH_OPERATOR_FORBIDDEN', `Send the operator secret in ${OPERATOR_SECRET_HEADER}`)
    }
  })

  const switched = async (request: FastifyRequest, action: string, value: string | number | boolean | null, apply: () => Promise<Switches>) => {
    const switches = await viaRedis(apply)
    const change = await recordChange(redis, { who: operatorOf(request), action, target: 'gateway', value }).catch((err: unknown) => {
      // Switched but not recorded: the log line below still says who did what.
      request.log.error({ err }, 'operator change not recorded in the operator log')
      return { who: operatorOf(request), action, value }
    })
    request.log.warn({ switches, change }, 'operator changed a gateway switch')
    return switches
  }

  app.get('/switches', { schema: { response: { 200: SwitchesSchema } } }, async () => viaRedis(() => readSwitches(redis)))
  app.put(
    '/switches/challenge/:concertId',
    {
      schema: {
        params: ConcertParams,
        body: Type.Object({ difficulty: Type.Integer({ minimum: MIN_CHALLENGE_DIFFICULTY, maximum: MAX_CHALLENGE_DIFFICULTY }) }, { additionalProperties: false }),
        response: { 200: SwitchesSchema },
      },
    },
    (request) => {
      const challenge = { concertId: request.params.concertId, difficulty: request.body.difficulty }
      return switched(request, 'gateway:challenge', `${challenge.concertId} ${challenge.difficulty}`, () => writeSwitches(redis, { challenge }))
    },
  )
  app.delete('/switches/challenge/:concertId', { schema: { params: ConcertParams, response: { 200: SwitchesSchema } } }, (request) => {
    const challenge = { concertId: request.params.concertId, difficulty: null }
    return switched(request, 'gateway:challenge', `${challenge.concertId} off`, () => writeSwitches(redis, { challenge }))
  })
  app.put('/switches/ranking', { schema: { body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), response: { 200: SwitchesSchema } } }, (request) =>
    switched(request, 'gateway:ranking', request.body.enabled, () => writeSwitches(redis, { rankingEnabled: request.body.enabled })),
  )
  app.put(
    '/switches/token-limit',
    {
      schema: {
        body: Type.Object({ perSecond: Type.Integer({ minimum: 1, maximum: 100_000 }) }, { additionalProperties: false }),
        response: { 200: SwitchesSchema },
      },
    },
    (request) => switched(request, 'gateway:token-limit', request.body.perSecond, () => writeSwitches(redis, { tokenLimitPerSecond: request.body.perSecond })),
  )
  // Back to RATE_LIMIT_TOKEN_PER_SECOND. A separate route: with type coercion on, a `null` in the body would also accept 0 or "".
  app.delete('/switches/token-limit', { schema: { response: { 200: SwitchesSchema } } }, (request) =>
    switched(request, 'gateway:token-limit', null, () => writeSwitches(redis, { tokenLimitPerSecond: null })),
  )

  app.get('/console', { schema: { hide: true } }, (_request, reply) => reply.redirect('/console/'))
  await app.register(staticPages, { root: consolePagesDir, urlPrefix: '/console/' })
  await app.register(consoleRoutes, {
    prefix: '/console/api',
    titles: createConcertTitles({ bookingUrls: urlList(config.BOOKING_URLS), timeoutMs: config.HEALTH_TIMEOUT_MS, maxAgeMs: 60_000 }),
    traces: createTracesTail({ file: config.TRACES_FILE, tailBytes: config.CONSOLE_TRACES_TAIL_BYTES, minIntervalMs: config.CONSOLE_REFRESH_MS }),
    alertmanagerUrl: config.ALERTMANAGER_URL,
    prometheusUrl: config.PROMETHEUS_URL,
    slowTraceMs: config.CONSOLE_SLOW_TRACE_MS,
    overviewCacheMs: config.CONSOLE_REFRESH_MS / 2,
    timeoutMs: config.HEALTH_TIMEOUT_MS,
  })
}
