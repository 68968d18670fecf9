import { AppError } from '@tickets/contracts/errors'
import { isPresaleCode, presaleCodeHash } from '@tickets/contracts/presale'
import { notOpenYet, pollSpreadSeconds, viewOfPlace, type PlaceView } from '@tickets/contracts/queue-view'
import { decideAdmission } from './admission.js'
import type { DrawKeeper } from './draw-keeper.js'
import type { InventoryKeeper } from './inventory-keeper.js'
import { presaleRefusal } from './presale-refusal.js'
import type { AdmissionHealth, AnswerCapacity, Clock, ConcertDirectory, LineDefaults, LineStore, Place, PresaleJoinOutcome, QueueEvents, TokenIssuer } from './ports.js'

export interface QueueServiceDeps {
  store: LineStore
  tokens: TokenIssuer
  concerts: ConcertDirectory
  inventory: InventoryKeeper
  draws: DrawKeeper
  health: AdmissionHealth
  capacity: AnswerCapacity
  clock: Clock
  events: QueueEvents
  defaults: LineDefaults
  batchLimit: number
}

/** A place's view, with the token of a WAITING or ACTIVE place. */
export type QueueView = PlaceView & { token?: string }

export function createQueueService(deps: QueueServiceDeps) {
  const { store, tokens, concerts, clock, events, defaults } = deps
  const viewSettings = { fallbackRate: defaults.ratePerSecond, overbook: defaults.overbook, waitingTokenTtlMs: defaults.waitingTokenTtlMs }

  async function view(concertId: string, userId: string, place: Place): Promise<QueueView> {
    const { view, claims } = viewOfPlace(place, { concertId, userId }, viewSettings, clock.now())
    if (!claims) return view
    return { ...view, token: await tokens.issue(claims) }
  }

  async function holderOf(token: string | undefined, userId: string) {
    if (!token) throw new AppError('QUEUE_TOKEN_MISSING', 'Send the token from POST /api/queue/token in X-Queue-Token')
    const verdict = await tokens.verify(token, clock.now())
    if (!verdict.ok && verdict.reason === 'invalid') throw new AppError('QUEUE_TOKEN_INVALID', 'Queue token signature or claims are not valid')
    const claims = verdict.claims!
    if (claims.userId !== userId) throw new AppError('QUEUE_TOKEN_FORBIDDEN', 'This queue token belongs to another user')
    return { claims, expired: !verdict.ok }
  }

  async function joinOnce(concertId: string, userId: string, needKnown: boolean, codeHash: string | undefined): Promise<PresaleJoinOutcome> {
    await store.register(concertId)
    const move = { concertId, userId, now: clock.now(), activeTtlMs: defaults.activeTtlMs, overbook: defaults.overbook, needKnown }
    return store.join(codeHash === undefined ? move : { ...move, codeHash })
  }

  /**
   * A join, after what the line needs first: the concert's opening from booking (when booking
   * answered that it exists), and the draw's commitment when the opening is ahead, so that no fan
   * ever stands before the drawn ones.
   */
  async function joinLine(concertId: string, userId: string, bookingKnowsIt: boolean, codeHash: string | undefined): Promise<PresaleJoinOutcome> {
    let outcome = await joinOnce(concertId, userId, bookingKnowsIt, codeHash)
    if (outcome.status === 'UNSYNCED') {
      await deps.inventory.resyncUnlessFailedLately(concertId)
      outcome = await joinOnce(concertId, userId, false, codeHash)
    }
    if (outcome.status === 'NOT_YET' && outcome.preQueueOpensAt === null && outcome.opensAt !== null) {
      await deps.draws.commit(concertId, outcome.opensAt)
      outcome = await joinOnce(concertId, userId, false, codeHash)
    }
    return outcome
  }

  // Lines with fans waiting at the last step share the gateways' poll capacity.
  let waitingLines = 1

  async function stepConcert(concertId: string, tick: number, now: number, pollsPerSecond: number | null): Promise<{ admitted: number; waiting: number }> {
    const state = await store.prepareStep({ concertId, tick, now, defaults })
    if (!state) {
      events.stepped(concertId, { ran: false, admitted: 0, expired: 0, droppedOut: 0, idleReleased: 0, waiting: 0, active: 0, effectiveRate: 0, limitedBy: null })
      return { admitted: 0, waiting: 0 }
    }
    deps.inventory.checkFreshness(concertId, state.inventory, now)
    deps.draws.checkDue(concertId, state.draw, state.inventory?.opensAt ?? null, now)
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
      drawing: state.draw.state === 'frozen',
      inventory: state.inventory,
      overbook: defaults.overbook,
      batchLimit: deps.batchLimit,
    })
    const spreadSeconds = pollSpreadSeconds({
      waiting: Math.max(0, state.waiting - decision.admit),
      free: state.inventory?.free ?? null,
      held: state.inventory?.onHold ?? null,
      overbook: defaults.overbook,
      pollsPerSecond,
    })
    const result = await store.admit({
      concertId,
      now,
      defaults,
      decision,
      cap: decision.limitedBy === 'let-all' ? null : cap,
      inventory: state.inventory,
      health: health.why,
      spreadSeconds,
    })
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
    return { admitted: result.admitted, waiting: result.waiting }
  }

  return {
    /** `presaleCode`: the code the fan joins with (X-Presale-Code), if any. */
    async join(userId: string, concertId: string, presaleCode?: string): Promise<QueueView> {
      const status = await concerts.status(concertId)
      if ('exists' in status && !status.exists) {
        events.joined(concertId, 'unknown_concert')
        throw new AppError('QUEUE_CONCERT_NOT_FOUND', `Concert ${concertId} does not exist`)
      }
      const soldOutByBooking = 'soldOut' in status && status.soldOut
      // A code of the wrong shape is wrong without a lookup.
      if (presaleCode !== undefined && !isPresaleCode(presaleCode)) {
        events.joined(concertId, 'presale_refused')
        throw presaleRefusal(concertId, { status: 'CODE_REFUSED', why: 'WRONG' })
      }
      const codeHash = presaleCode === undefined ? undefined : presaleCodeHash(presaleCode)
      const place = soldOutByBooking ? ({ status: 'SOLD_OUT' } as const) : await joinLine(concertId, userId, 'exists' in status && status.exists, codeHash)
      if (place.status === 'CODE_REFUSED') {
        events.joined(concertId, 'presale_refused')
        throw presaleRefusal(concertId, place)
      }
      if (place.status === 'NOT_YET') {
        events.joined(concertId, 'not_open_yet')
        throw notOpenYet({ concertId, userId, ...place }, clock.now())
      }
      if (place.status === 'SOLD_OUT' || place.status === 'EXPIRED' || place.status === 'UNSYNCED') {
        events.joined(concertId, 'sold_out')
        throw new AppError('QUEUE_SOLD_OUT', `Concert ${concertId} is sold out`)
      }
      events.joined(concertId, !place.created ? 'again' : place.status === 'PRE_QUEUE' ? 'pre_queue' : place.presale ? 'presale' : 'new')
      return view(concertId, userId, place)
    },

    async status(userId: string, token: string | undefined): Promise<QueueView> {
      const { claims, expired } = await holderOf(token, userId)
      const place = await store.poll({ concertId: claims.concertId, userId, seq: claims.seq, now: clock.now(), overbook: defaults.overbook })
      events.polled(claims.concertId)
      if (expired && place.status !== 'SOLD_OUT' && place.status !== 'WAITING' && place.status !== 'PRE_QUEUE')
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
      await Promise.all([deps.health.refresh(), deps.capacity.refresh()])
      const total = deps.capacity.pollsPerSecond()
      const perLine = total === null ? null : total / waitingLines
      const admitted: Record<string, number> = {}
      let lines = 0
      for (const concertId of await store.concerts()) {
        const step = await stepConcert(concertId, tick, now, perLine)
        admitted[concertId] = step.admitted
        if (step.waiting > 0) lines++
      }
      waitingLines = Math.max(1, lines)
      return admitted
    },
  }
}

export type QueueService = ReturnType<typeof createQueueService>
