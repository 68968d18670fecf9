import { AppError } from '@tickets/contracts/errors'
import { createRedisGuard } from '@tickets/shared/redis'
import { QUEUE_TOKEN_HEADER, queueRevocationKey } from '@tickets/contracts/queue-token'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, type Registry } from 'prom-client'
import type { QueueTokenJudge } from '../domain/queue-token-judge.js'
import type { PublicRoute } from '../domain/route-table.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The concert of the caller's verified ACTIVE queue token, on routes marked **queue**. */
    queueConcertId: string | null
  }
  interface FastifyInstance {
    /** Rejects a request to a route marked **queue** without a valid ACTIVE queue token; a no-op elsewhere. */
    queueGate(request: FastifyRequest, route: PublicRoute): Promise<void>
  }
}

export interface QueueGateOptions {
  judge: QueueTokenJudge
  /** Where a fan's request with a valid ACTIVE token is noted as a sign of life. */
  activity?: { seen(concertId: string, userId: string): void }
  /** How long the revocation lookup may take before the signed token is trusted alone. */
  revocationTimeoutMs?: number
}

/** The path's concert as the service will read it (decoded); undefined when it cannot be decoded. */
function concertOf(request: FastifyRequest): string | null | undefined {
  const match = request.routeMatch
  const raw = match?.kind === 'route' ? match.params.concertId : undefined
  if (raw === undefined) return null
  try {
    return decodeURIComponent(raw)
  } catch {
    return undefined
  }
}

/**
 * Checks X-Queue-Token on every route the table marks **queue** (the proxy forwards nothing the
 * table does not match, so no spelling of a path gets past the gate to a service): signature (HS256, the queue key only), expiry,
 * status ACTIVE, the authenticated user, the path's concert, then revocation with one Redis GET.
 * When the gateway's Redis is down, signed ACTIVE tokens keep working until they expire (manual
 * 3.3.1): a fan already admitted keeps booking, and the window is bounded by the token's expiry.
 */
export default fp(
  async (app: FastifyInstance, opts: QueueGateOptions) => {
    const timeoutMs = opts.revocationTimeoutMs ?? 100
    const registry = (app as FastifyInstance & { metrics?: Registry }).metrics
    const registers = registry ? [registry] : []
    const rejected = new Counter({
      name: 'gateway_queue_gate_rejections_total',
      help: 'Requests to queue routes refused by the queue-token check',
      labelNames: ['code'],
      registers,
    })
    const unchecked = new Counter({
      name: 'gateway_queue_revocation_unchecked_total',
      help: 'ACTIVE tokens let through without a revocation check (Redis down or slow)',
      registers,
    })

    // A hung Redis costs one request the timeout; the next ones trust the signature at once for a second.
    const guard = createRedisGuard(app.redis, { timeoutMs, pauseOn: 'silence' })
    async function revokedUpTo(concertId: string, userId: string): Promise<number | null> {
      try {
        const value = await guard.run(() => app.redis.get(queueRevocationKey(concertId, userId)))
        return value === null ? 0 : Number(value)
      } catch (err) {
        unchecked.inc()
        app.log.warn({ err, concertId }, 'queue token revocation not checked; trusting the signature')
        return null
      }
    }

    function reject(code: ConstructorParameters<typeof AppError>[0], detail: string): never {
      rejected.inc({ code })
      throw new AppError(code, detail)
    }

    app.decorateRequest('queueConcertId', null)
    app.decorate('queueGate', async (request: FastifyRequest, route: PublicRoute) => {
      if (!route.queue) return
      const pathConcert = concertOf(request)
      const header = request.headers[QUEUE_TOKEN_HEADER]
      if (typeof header !== 'string' || header.length === 0) reject('QUEUE_TOKEN_MISSING', 'This route needs X-Queue-Token: join the line with POST /api/queue/token')
      const verdict = await opts.judge(header)
      if (!verdict.ok) {
        if (verdict.reason === 'expired') reject('QUEUE_TOKEN_EXPIRED', 'Your admission has expired: join the line again')
        reject('QUEUE_TOKEN_INVALID', 'Queue token signature or claims are not valid')
      }
      const { claims } = verdict
      if (!request.userId) reject('AUTH_MISSING_USER', 'No authenticated user')
      if (claims.userId !== request.userId) reject('QUEUE_TOKEN_FORBIDDEN', 'This queue token belongs to another user')
      if (claims.status !== 'ACTIVE') reject('QUEUE_NOT_ACTIVE', 'Still waiting: poll GET /api/queue/token until ACTIVE and send the token it returns')
      if (pathConcert !== null && pathConcert !== claims.concertId) reject('QUEUE_TOKEN_FORBIDDEN', 'This queue token is for another concert')
      const revoked = await revokedUpTo(claims.concertId, claims.userId)
      if (revoked !== null && revoked >= claims.seq) reject('QUEUE_TOKEN_REVOKED', 'This admission has ended (paid or given up)')
      request.queueConcertId = claims.concertId
      opts.activity?.seen(claims.concertId, claims.userId)
    })
  },
  { name: 'queue-gate', dependencies: ['auth', 'redis', 'route-matching'] },
)
