import { AppError } from '@tickets/shared/errors'
import type { Clock, ConcertDirectory, LineDefaults, LineStore, Place, QueueEvents, TokenIssuer } from './ports.js'

export interface QueueServiceDeps {
  store: LineStore
  tokens: TokenIssuer
  concerts: ConcertDirectory
  clock: Clock
  events: QueueEvents
  defaults: LineDefaults
  waitingTokenTtlMs: number
}

export type QueueView =
  | { status: 'WAITING'; token: string; position: number; estimatedWaitSeconds: number; retryAfterSeconds: number }
  | { status: 'ACTIVE'; token: string; position: 0; estimatedWaitSeconds: 0; activeUntil: string; retryAfterSeconds: number }
  | { status: 'EXPIRED' | 'SOLD_OUT'; position: 0; estimatedWaitSeconds: 0 }

const MIN_RETRY_S = 1
const MAX_RETRY_S = 15

/**
 * Seconds until this position is admitted at the measured rate (admissions per second over recent
 * ticks), falling back to the configured rate before anything was measured.
 */
export function estimateWaitSeconds(position: number, measuredRate: number | null, configuredRate: number): number {
  const rate = measuredRate !== null && measuredRate > 0 ? measuredRate : configuredRate
  if (rate <= 0) return position * 60
  return Math.ceil(position / rate)
}

/**
 * How long a waiting client should wait before polling again: about 1 s near the front, growing
 * with the wait up to 15 s, so a million pollers far back cost Redis little.
 */
export function retryAfterSeconds(estimatedWaitSeconds: number): number {
  return Math.min(MAX_RETRY_S, Math.max(MIN_RETRY_S, Math.ceil(estimatedWaitSeconds / 4)))
}

export function createQueueService(deps: QueueServiceDeps) {
  const { store, tokens, concerts, clock, events, defaults } = deps

  async function view(concertId: string, userId: string, place: Place): Promise<QueueView> {
    if (place.status === 'EXPIRED' || place.status === 'SOLD_OUT') return { status: place.status, position: 0, estimatedWaitSeconds: 0 }
    if (place.status === 'ACTIVE') {
      const token = await tokens.issue({ userId, concertId, status: 'ACTIVE', seq: place.seq, issuedAt: Math.floor(place.joinedAt / 1000), expiresAt: Math.floor(place.activeUntil / 1000) })
      return { status: 'ACTIVE', token, position: 0, estimatedWaitSeconds: 0, activeUntil: new Date(place.activeUntil).toISOString(), retryAfterSeconds: MAX_RETRY_S }
    }
    const issuedAt = Math.floor(place.joinedAt / 1000)
    const token = await tokens.issue({ userId, concertId, status: 'WAITING', seq: place.seq, issuedAt, expiresAt: issuedAt + Math.floor(deps.waitingTokenTtlMs / 1000) })
    const estimatedWaitSeconds = estimateWaitSeconds(place.position, place.measuredRate, place.rate ?? defaults.ratePerSecond)
    return { status: 'WAITING', token, position: place.position, estimatedWaitSeconds, retryAfterSeconds: retryAfterSeconds(estimatedWaitSeconds) }
  }

  async function holderOf(token: string | undefined, userId: string) {
    if (!token) throw new AppError('QUEUE_TOKEN_MISSING', 'Send the token from POST /api/queue/token in X-Queue-Token')
    const verdict = await tokens.verify(token, clock.now())
    if (!verdict.ok && verdict.reason === 'invalid') throw new AppError('QUEUE_TOKEN_INVALID', 'Queue token signature or claims are not valid')
    const claims = verdict.claims!
    if (claims.userId !== userId) throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'This queue token belongs to another user')
    return { claims, expired: !verdict.ok }
  }

  async function joinLine(concertId: string, userId: string): Promise<Place> {
    await store.register(concertId)
    return store.join({ concertId, userId, now: clock.now(), activeTtlMs: defaults.activeTtlMs })
  }

  return {
    async join(userId: string, concertId: string): Promise<QueueView> {
      const status = await concerts.status(concertId)
      if ('exists' in status && !status.exists) {
        events.joined(concertId, 'unknown_concert')
        throw new AppError('QUEUE_CONCERT_NOT_FOUND', `Concert ${concertId} does not exist`)
      }
      const soldOutByBooking = 'soldOut' in status && status.soldOut
      const place = soldOutByBooking ? ({ status: 'SOLD_OUT' } as const) : await joinLine(concertId, userId)
      if (place.status === 'SOLD_OUT') {
        events.joined(concertId, 'sold_out')
        throw new AppError('QUEUE_SOLD_OUT', `Concert ${concertId} is sold out`)
      }
      events.joined(concertId, 'created' in place && place.created ? 'new' : 'again')
      return view(concertId, userId, place)
    },

    async status(userId: string, token: string | undefined): Promise<QueueView> {
      const { claims, expired } = await holderOf(token, userId)
      const place = await store.poll({ concertId: claims.concertId, userId, seq: claims.seq, now: clock.now() })
      if (expired && place.status !== 'SOLD_OUT' && place.status !== 'WAITING') return { status: 'EXPIRED', position: 0, estimatedWaitSeconds: 0 }
      return view(claims.concertId, userId, place)
    },

    async leave(userId: string, token: string | undefined): Promise<void> {
      const { claims } = await holderOf(token, userId)
      const outcome = await store.leave({ concertId: claims.concertId, userId, seq: claims.seq, now: clock.now(), activeTtlMs: defaults.activeTtlMs })
      if (outcome === 'NONE') throw new AppError('QUEUE_NOT_IN_LINE', 'This token no longer holds a place in line')
      if (outcome === 'ENDED') events.activeEnded(claims.concertId, 'left')
    },

    /** payment.payment.completed: the user bought what they queued for; their slot goes to the next fan. */
    async paymentCompleted(input: { eventId: string; userId: string; concertId: string }): Promise<'ENDED' | 'NONE' | 'DUPLICATE'> {
      const outcome = await store.endActiveOnce({ ...input, now: clock.now(), activeTtlMs: defaults.activeTtlMs })
      if (outcome === 'ENDED') events.activeEnded(input.concertId, 'paid')
      return outcome
    },

    async soldOutChanged(input: { concertId: string; soldOut: boolean; occurredAt: string }): Promise<void> {
      const at = Date.parse(input.occurredAt)
      await store.setSoldOut({ concertId: input.concertId, soldOut: input.soldOut, at: Number.isFinite(at) ? at : clock.now() })
    },

    /** One admission step for every concert with a line; a no-op where another instance ran this tick. */
    async tick(): Promise<Record<string, number>> {
      const now = clock.now()
      const tick = Math.floor(now / defaults.tickMs)
      const admitted: Record<string, number> = {}
      for (const concertId of await store.concerts()) {
        const result = await store.step({ concertId, tick, now, defaults })
        events.stepped(concertId, result)
        admitted[concertId] = result.admitted
      }
      return admitted
    },
  }
}

export type QueueService = ReturnType<typeof createQueueService>
