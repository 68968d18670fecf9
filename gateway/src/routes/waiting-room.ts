import { AppError } from '@tickets/contracts/errors'
import type { FanMoves, Place } from '@tickets/contracts/line-commands'
import type { LineSummary } from '@tickets/contracts/queue-line'
import { isQueueId, QUEUE_TOKEN_HEADER, queueTokenKey, signQueueToken, type QueueTokenClaims } from '@tickets/contracts/queue-token'
import { notOpenYet, viewOfPlace, withoutHint, type PlaceView } from '@tickets/contracts/queue-view'
import { quietWhenFine } from '@tickets/shared/http'
import type { RedisGuard } from '@tickets/shared/redis'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import type { LineSummaries } from '../adapters/redis-line-summaries.js'
import type { Sightings } from '../adapters/redis-sightings.js'
import { answerFarBack } from '../domain/far-back-polls.js'
import type { QueueTokenJudge } from '../domain/queue-token-judge.js'

/** Answers a request at the gateway (true), or leaves it to the service (false). */
export type LocalAnswer = (request: FastifyRequest, reply: FastifyReply) => Promise<boolean>

export interface WaitingRoomOptions {
  secret: string
  judge: QueueTokenJudge
  summaries: LineSummaries
  /** Where polls answered from the summary are noted as signs of life. */
  sightings: Sightings
  moves: FanMoves
  guard: RedisGuard
  registry: Registry
}

const RETRY_AFTER_S = '2'
type RunningLine = LineSummary & { settings: NonNullable<LineSummary['settings']> }

/**
 * The waiting room's edge: a fan's join, poll and leave answered here, in the process that already
 * authenticated the request, with one call of the line's own scripts each (or none, for a poll far
 * back in line, answered from the line's summary). The queue service keeps the line's brain: the
 * admission steps, inventory, back-off and switches. A concert whose line is not running (no
 * current summary: never joined, or the queue service stalled) and any request out of the ordinary
 * (a bad body or token) go to the queue service, which answers them as before.
 */
export function waitingRoomAnswers(opts: WaitingRoomOptions): { join: LocalAnswer; poll: LocalAnswer; leave: LocalAnswer } {
  const key = queueTokenKey(opts.secret)
  const registers = [opts.registry]
  const answered = new Counter({
    name: 'gateway_queue_answers_total',
    help: 'Waiting-room requests answered by the gateway, by move and how',
    labelNames: ['move', 'how'],
    registers,
  })
  // Named as the queue service's, so that a dashboard's sum counts every join wherever it was answered.
  const joins = new Counter({
    name: 'queue_joins_total',
    help: 'Join requests by outcome (new, presale, pre_queue, again, not_open_yet, sold_out, unknown_concert, presale_refused)',
    labelNames: ['concert', 'outcome'],
    registers,
  })
  const polls = new Counter({ name: 'queue_polls_total', help: 'GET /api/queue/token answered, per concert', labelNames: ['concert'], registers })
  const ended = new Counter({ name: 'queue_active_ended_total', help: 'ACTIVE slots ended by reason (expired, idle, left, paid)', labelNames: ['concert', 'reason'], registers })

  async function onLine<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await opts.guard.run(run)
    } catch (cause) {
      throw new AppError('QUEUE_UNAVAILABLE', `The waiting room cannot reach its store (${what}); retry in a moment`, { cause, headers: { 'retry-after': RETRY_AFTER_S } })
    }
  }

  /** The line's summary with its settings, while its admission steps run. */
  function runningLine(concertId: string): RunningLine | null {
    const line = opts.summaries.current(concertId)
    return line?.settings ? (line as RunningLine) : null
  }

  /**
   * The fan's own valid queue token and the running line it is for; null sends the request to the
   * queue service (which words every refusal).
   */
  async function holderInLine(request: FastifyRequest): Promise<{ claims: QueueTokenClaims; line: RunningLine } | null> {
    const header = request.headers[QUEUE_TOKEN_HEADER]
    if (typeof header !== 'string' || header.length === 0 || header.length > 2048 || !request.userId) return null
    const verdict = await opts.judge(header)
    if (!verdict.ok || verdict.claims.userId !== request.userId) return null
    const line = runningLine(verdict.claims.concertId)
    return line && { claims: verdict.claims, line }
  }

  function answeredHere(request: FastifyRequest, move: 'join' | 'poll', how: 'line' | 'summary') {
    answered.inc({ move, how })
    quietWhenFine(request)
  }

  async function send(reply: FastifyReply, status: number, place: Place, who: { concertId: string; userId: string }, line: RunningLine) {
    const now = Date.now()
    const { view, claims } = viewOfPlace(place, who, line.settings, now)
    const { body, retryAfter } = withoutHint<PlaceView & { token?: string }>(claims ? { ...view, token: await signQueueToken(key, claims) } : view)
    if (retryAfter) reply.header('retry-after', retryAfter)
    return reply.code(status).send(body)
  }

  return {
    async join(request, reply) {
      const body = request.body as Record<string, unknown> | undefined
      const userId = request.userId
      if (!userId || typeof body !== 'object' || body === null || Object.keys(body).length !== 1 || !isQueueId(body.concertId)) return false
      const concertId = body.concertId
      const line = runningLine(concertId)
      if (!line) return false
      // A running line heard from booking when its first join reached the queue service; if booking
      // has not answered since, the gateway joins as the queue service would (first come, first served).
      const place = await onLine('join', () =>
        opts.moves.join({ concertId, userId, now: Date.now(), activeTtlMs: line.settings.activeTtlMs, overbook: line.settings.overbook, needKnown: false }),
      )
      // The draw of an opening ahead is not committed yet: the queue service commits it.
      if (place.status === 'UNSYNCED' || (place.status === 'NOT_YET' && place.preQueueOpensAt === null)) return false
      if (place.status === 'NOT_YET') {
        joins.inc({ concert: concertId, outcome: 'not_open_yet' })
        throw notOpenYet({ concertId, userId, ...place }, Date.now())
      }
      if (place.status === 'SOLD_OUT' || place.status === 'EXPIRED') {
        joins.inc({ concert: concertId, outcome: 'sold_out' })
        throw new AppError('QUEUE_SOLD_OUT', `Concert ${concertId} is sold out`)
      }
      joins.inc({ concert: concertId, outcome: !place.created ? 'again' : place.status === 'PRE_QUEUE' ? 'pre_queue' : 'new' })
      answeredHere(request, 'join', 'line')
      await send(reply, 201, place, { concertId, userId }, line)
      return true
    },

    async poll(request, reply) {
      const held = await holderInLine(request)
      if (!held) return false
      const { claims, line } = held
      const { concertId, userId, seq } = claims
      // A presale place is ahead of the general line the summary describes: the line answers it.
      const farBack = claims.status === 'WAITING' && !claims.presale ? answerFarBack(seq, line, Date.now()) : null
      if (farBack) {
        opts.sightings.seen(concertId, userId)
        answeredHere(request, 'poll', 'summary')
        polls.inc({ concert: concertId })
        const { body, retryAfter } = withoutHint(farBack)
        reply.header('retry-after', retryAfter)
        reply.send({ ...body, token: request.headers[QUEUE_TOKEN_HEADER], positionEstimated: true })
        return true
      }
      const place = await onLine('poll', () => opts.moves.poll({ concertId, userId, seq, now: Date.now(), overbook: line.settings.overbook }))
      answeredHere(request, 'poll', 'line')
      polls.inc({ concert: concertId })
      await send(reply, 200, place, { concertId, userId }, line)
      return true
    },

    async leave(request, reply) {
      const held = await holderInLine(request)
      if (!held) return false
      const { concertId, userId, seq } = held.claims
      const line = held.line
      const outcome = await onLine('leave', () => opts.moves.leave({ concertId, userId, seq, now: Date.now(), activeTtlMs: line.settings.activeTtlMs }))
      if (outcome === 'NONE') throw new AppError('QUEUE_NOT_IN_LINE', 'This token no longer holds a place in line')
      if (outcome === 'ENDED') ended.inc({ concert: concertId, reason: 'left' })
      answered.inc({ move: 'leave', how: 'line' })
      reply.code(204).send()
      return true
    },
  }
}
