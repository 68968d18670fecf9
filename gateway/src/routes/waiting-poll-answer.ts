import { QUEUE_TOKEN_HEADER, queueTokenKey, verifyQueueToken } from '@tickets/contracts/queue-token'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import type { LineSummaries } from '../adapters/redis-line-summaries.js'
import type { Sightings } from '../adapters/redis-sightings.js'
import { answerFarBack } from '../domain/far-back-polls.js'

/** Answers a request at the gateway (true), or leaves it to the service (false). */
export type LocalAnswer = (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>

/**
 * `GET /api/queue/token` of a fan far back in line, answered from the line's summary: the fan's own
 * WAITING token (signature, expiry, the authenticated user) says where they joined, the summary
 * where the line is. The position is then an estimate and says so (`positionEstimated`); the poll
 * still counts as a sign of life, reported to the line in batches. Anything else goes to the queue
 * service, which answers exactly.
 */
export function waitingPollAnswer(opts: { secret: string; summaries: LineSummaries; sightings: Sightings; registry: Registry }): LocalAnswer {
  const key = queueTokenKey(opts.secret)
  const answered = new Counter({
    name: 'gateway_waiting_polls_answered_total',
    help: 'Polls of fans far back in line answered by the gateway from the line summary (the rest go to the queue service)',
    registers: [opts.registry],
  })

  return async (request, reply) => {
    const header = request.headers[QUEUE_TOKEN_HEADER]
    if (typeof header !== 'string' || header.length === 0 || header.length > 2048 || !request.userId) return false
    const verdict = await verifyQueueToken(key, header)
    if (!verdict.ok || verdict.claims.status !== 'WAITING' || verdict.claims.userId !== request.userId) return false
    const { concertId, userId, seq } = verdict.claims
    const line = opts.summaries.current(concertId)
    const answer = line && answerFarBack(seq, line)
    if (!answer) return false
    opts.sightings.seen(concertId, userId)
    answered.inc()
    const { retryAfterSeconds, ...where } = answer
    reply.header('retry-after', String(retryAfterSeconds))
    reply.send({ status: 'WAITING', ...where, token: header, positionEstimated: true })
    return true
  }
}
