import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AppError } from '@tickets/contracts/errors'
import { MAX_CHALLENGE_DIFFICULTY, MIN_CHALLENGE_DIFFICULTY } from '@tickets/contracts/queue-challenge'
import type { FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Type } from 'typebox'
import { readSwitches, writeSwitches, type Switches } from './adapters/redis-switches.js'

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
  redis: Redis
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
  const redis = opts.redis
  const expected = digest(opts.secret)

  app.addHook('onRequest', async (request: FastifyRequest) => {
    const given = request.headers[OPERATOR_SECRET_HEADER]
    // Compare digests in constant time: the secret's length and prefix must not leak through timing.
    if (typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
      request.log.warn({ ip: request.ip }, 'operator request refused')
      throw new AppError('AUTH_OPERATOR_FORBIDDEN', `Send the operator secret in ${OPERATOR_SECRET_HEADER}`)
    }
  })

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
    async (request) => {
      const challenge = { concertId: request.params.concertId, difficulty: request.body.difficulty }
      const switches = await viaRedis(() => writeSwitches(redis, { challenge }))
      request.log.warn({ challenge }, 'operator switched on the join challenge')
      return switches
    },
  )
  app.delete('/switches/challenge/:concertId', { schema: { params: ConcertParams, response: { 200: SwitchesSchema } } }, async (request) => {
    const challenge = { concertId: request.params.concertId, difficulty: null }
    const switches = await viaRedis(() => writeSwitches(redis, { challenge }))
    request.log.warn({ challenge }, 'operator switched off the join challenge')
    return switches
  })
  app.put(
    '/switches/ranking',
    { schema: { body: Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false }), response: { 200: SwitchesSchema } } },
    async (request) => {
      const switches = await viaRedis(() => writeSwitches(redis, { rankingEnabled: request.body.enabled }))
      request.log.warn({ switches }, 'operator changed the ranking switch')
      return switches
    },
  )
  app.put(
    '/switches/token-limit',
    {
      schema: {
        body: Type.Object({ perSecond: Type.Integer({ minimum: 1, maximum: 100_000 }) }, { additionalProperties: false }),
        response: { 200: SwitchesSchema },
      },
    },
    async (request) => {
      const switches = await viaRedis(() => writeSwitches(redis, { tokenLimitPerSecond: request.body.perSecond }))
      request.log.warn({ switches }, 'operator changed the token-route limit')
      return switches
    },
  )
  // Back to RATE_LIMIT_TOKEN_PER_SECOND. A separate route: with type coercion on, a `null` in the body would also accept 0 or "".
  app.delete('/switches/token-limit', { schema: { response: { 200: SwitchesSchema } } }, async (request) => {
    const switches = await viaRedis(() => writeSwitches(redis, { tokenLimitPerSecond: null }))
    request.log.warn({ switches }, 'operator reset the token-route limit')
    return switches
  })
}
