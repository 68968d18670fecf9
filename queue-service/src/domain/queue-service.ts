import { AppError } from '@tickets/contracts/errors'
import { estimateWait, retryAfterSeconds } from '@tickets/contracts/queue-line'
import { decideAdmission, type WaitReason } from './admission.js'
import type { InventoryKeeper } from './inventory-keeper.js'
import type { AdmissionHealth, Clock, ConcertDirectory, LineDefaults, LineStore, Place, QueueEvents, TokenIssuer } from './ports.js'
import { retryAfterWhileHeld } from './waiting-estimates.js'

export interface QueueServiceDeps {
  store: LineStore
  tokens: TokenIssuer
  concerts: ConcertDirectory
  inventory: InventoryKeeper
  health: AdmissionHealth
  clock: Clock
  events: QueueEvents
  defaults: LineDefaults
  waitingTokenTtlMs: number
  batchLimit: number
}

interface Waiting {
  status: 'WAITING'
  token: string
  position: number
  estimatedWaitSeconds: number
  estimatedWaitRangeSeconds: [number, number]
  reason?: WaitReason
  seatsOnHold?: number
  nextReleaseAt?: string
  retryAfterSeconds: number
}

export type QueueView =
  | Waiting
  | { status: 'ACTIVE'; token: string; position: 0; estimatedWaitSeconds: 0; estimatedWaitRangeSeconds: [0, 0]; activeUntil: string; retryAfterSeconds: number }
  | { status: 'EXPIRED' | 'SOLD_OUT'; position: 0; estimatedWaitSeconds: 0; estimatedWaitRangeSeconds: [0, 0] }

// An ACTIVE fan has nothing to wait for; the hint only spaces out a client that polls anyway.
const ACTIVE_RETRY_S = 15

export function createQueueService(deps: QueueServiceDeps) {
  const { store, tokens, concerts, clock, events, defaults } = deps

  function waitingView(place: Extract<Place, { status: 'WAITING' }>, token: string): Waiting {
    const { line, position } = place
    const estimate = estimateWait(position, line, line.rate ?? defaults.ratePerSecond)
    const view: Waiting = { status: 'WAITING', token, position, estimatedWaitSeconds: estimate.seconds, estimatedWaitRangeSeconds: estimate.range, retryAfterSeconds: 0 }
    if (line.reason) view.reason = line.reason
    if (line.reason !== 'ALL_SEATS_HELD' || line.seatsOnHold === null) {
      view.retryAfterSeconds = retryAfterSeconds(estimate.seconds)
      return view
    }
    // Nothing moves before a hold ends: the wait is at least until the one that could free this place's seat.
    const releaseAt = line.releaseForPosition ?? line.nextReleaseAt
    const secondsToRelease = releaseAt === null ? 0 : Math.max(0, (releaseAt - clock.now()) / 1000)
    view.estimatedWaitSeconds = Math.max(estimate.seconds, Math.ceil(secondsToRelease))
    view.estimatedWaitRangeSeconds = [Math.max(estimate.range[0], Math.ceil(secondsToRelease)), Math.max(estimate.range[1], view.estimatedWaitSeconds)]
    view.seatsOnHold = line.seatsOnHold
    if (line.nextReleaseAt !== null) view.nextReleaseAt = new Date(line.nextReleaseAt).toISOString()
    view.retryAfterSeconds = retryAfterWhileHeld({
      estimatedWaitSeconds: view.estimatedWaitSeconds,
      position,
      seatsOnHold: line.seatsOnHold,
      overbook: defaults.overbook,
      secondsToRelease,
    })
    return view
  }

  async function view(concertId: string, userId: string, place: Place): Promise<QueueView> {
    if (place.status === 'EXPIRED' || place.status === 'SOLD_OUT') return { status: place.status, position: 0, estimatedWaitSeconds: 0, estimatedWaitRangeSeconds: [0, 0] }
    if (place.status === 'ACTIVE') {
      const token = await tokens.issue({
        userId,
        concertId,
        status: 'ACTIVE',
        seq: place.seq,
        issuedAt: Math.floor(place.joinedAt / 1000),
        expiresAt: Math.floor(place.activeUntil / 1000),
      })
      return {
        status: 'ACTIVE',
        token,
        position: 0,
        estimatedWaitSeconds: 0,
        estimatedWaitRangeSeconds: [0, 0],
        activeUntil: new Date(place.activeUntil).toISOString(),
        retryAfterSeconds: ACTIVE_RETRY_S,
      }
    }
    const issuedAt = Math.floor(place.joinedAt / 1000)
    const token = await tokens.issue({ userId, concertId, status: 'WAITING', seq: place.seq, issuedAt, expiresAt: issuedAt + Math.floor(deps.waitingTokenTtlMs / 1000) })
    return waitingView(place, token)
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
    return store.join({ concertId, userId, now: clock.now(), activeTtlMs: defaults.activeTtlMs, overbook: defaults.overbook })
  }

  async function stepConcert(concertId: string, tick: number, now: number): Promise<number> {
    const state = await store.prepareStep({ concertId, tick, now, defaults })
    if (!state) {
      events.stepped(concertId, { ran: false, admitted: 0, expired: 0, droppedOut: 0, idleReleased: 0, waiting: 0, active: 0, effectiveRate: 0, limitedBy: null })
      return 0
    }
    deps.inventory.checkFreshness(concertId, state.inventory, now)
    const cap = state.settings.activeCap ?? defaults.activeCap
    const health = deps.health.current()
    const decision = decideAdmission({
      now,
      tickMs: defaults.tickMs,
      waiting: state.waiting,
      active: state.active,
      activeHolding: state.activeHolding,
      ceilingRate: state.settings.ratePerSecond ?? defaults.ratePerSecond,
      healthFactor: health.factor,
      cap,
      carry: state.carry,
      paused: state.settings.paused ?? false,
      mode: state.settings.emergency ?? null,
      soldOut: state.soldOut,
      inventory: state.inventory,
      overbook: defaults.overbook,
      batchLimit: deps.batchLimit,
    })
    const result = await store.admit({ concertId, now, defaults, decision, cap: decision.limitedBy === 'let-all' ? null : cap, inventory: state.inventory, health: health.why })
    events.stepped(concertId, {
      ran: true,
      admitted: result.admitted,
      expired: state.expired,
      droppedOut: state.droppedOut,
      idleReleased: state.idleReleased,
      waiting: result.waiting,
      active: result.active,
      effectiveRate: decision.effectiveRate,
      limitedBy: decision.limitedBy,
    })
    return result.admitted
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
      const place = await store.poll({ concertId: claims.concertId, userId, seq: claims.seq, now: clock.now(), overbook: defaults.overbook })
      if (expired && place.status !== 'SOLD_OUT' && place.status !== 'WAITING')
        return { status: 'EXPIRED', position: 0, estimatedWaitSeconds: 0, estimatedWaitRangeSeconds: [0, 0] }
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
      await deps.health.refresh()
      const admitted: Record<string, number> = {}
      for (const concertId of await store.concerts()) admitted[concertId] = await stepConcert(concertId, tick, now)
      return admitted
    },
  }
}

export type QueueService = ReturnType<typeof createQueueService>
