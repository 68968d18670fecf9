import { AppError } from '@tickets/contracts/errors'
import { createRedisGuard, type RedisClient } from '@tickets/shared/redis'
import { fanMoves, lineCommandsOf, lineScriptKeys as base } from '@tickets/contracts/line-commands'
import { CONCERTS_KEY, lineKeys } from '@tickets/contracts/line-keys'
import type { ConcertSettings, DrawState, InventoryStore, LineStore, StepState } from '../domain/ports.js'

const RETRY_AFTER_S = '2'
const EVENT_DEDUP_MS = 7 * 24 * 3_600_000
// Ended reservations are remembered this long: longer than any redelivery of the events that name them.
const ENDED_MEMORY_MS = 24 * 3_600_000
// Bounds one script run (Redis is single-threaded): at most this many admissions, expiries and drop-outs per tick.
export const STEP_BATCH_LIMIT = 5_000
const REGISTER_EVERY_MS = 30_000
const ENDED_SET: Record<'CONFIRMED' | 'RELEASED' | 'REFUNDED', number> = { CONFIRMED: 5, RELEASED: 6, REFUNDED: 7 }

function inventoryKeys(concertId: string) {
  const k = lineKeys(concertId)
  return [k.inventory, k.holds, k.holders, k.userHolds, k.endedConfirmed, k.endedReleased, k.endedRefunded]
}

function num(value: string | undefined): number | null {
  if (value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

function stepStateOf(reply: string[]): StepState | null {
  if (reply[0] !== '1') return null
  const [
    ,
    expired,
    droppedOut,
    idleReleased,
    waiting,
    active,
    holding,
    rate,
    cap,
    paused,
    mode,
    soldOut,
    carry,
    known,
    total,
    sold,
    opensAt,
    syncedAt,
    onHold,
    nextRelease,
    drawState,
    drawOpens,
    drawFrom,
    preQueueWindowS,
  ] = reply
  const settings: ConcertSettings = { paused: paused === '1' }
  if (num(rate) !== null) settings.ratePerSecond = num(rate)!
  if (num(cap) !== null) settings.activeCap = num(cap)!
  if (mode === 'queue-all' || mode === 'let-all') settings.emergency = mode
  const held = Number(onHold)
  return {
    expired: Number(expired),
    droppedOut: Number(droppedOut),
    idleReleased: Number(idleReleased),
    waiting: Number(waiting),
    active: Number(active),
    activeHolding: Number(holding),
    settings,
    soldOut: soldOut === '1',
    carry: Number(carry) || 0,
    inventory:
      known === '1'
        ? { free: Math.max(0, Number(total) - Number(sold) - held), onHold: held, nextReleaseAt: num(nextRelease), opensAt: num(opensAt), syncedAt: Number(syncedAt) }
        : null,
    draw: {
      state: DRAW_STATES.find((d) => d === drawState) ?? null,
      opensAt: num(drawOpens),
      preQueueFrom: num(drawFrom),
      preQueueWindowMs: num(preQueueWindowS) === null ? null : num(preQueueWindowS)! * 1000,
    },
  }
}

const DRAW_STATES: readonly NonNullable<DrawState['state']>[] = ['open', 'frozen', 'drawn']

/**
 * The line on Redis. While Redis is down or slow every call fails within `timeoutMs` with 503
 * QUEUE_UNAVAILABLE and Retry-After: the client has no offline queue, so nothing piles up, and the
 * next call after Redis returns simply works.
 */
export function createRedisLineStore(redis: RedisClient, opts: { timeoutMs: number }): LineStore & InventoryStore {
  const cmd = lineCommandsOf(redis)
  const fans = fanMoves(redis)
  const registered = new Map<string, number>()
  // A new connection may be to a Redis that lost its data (killed, restarted empty): the lines must
  // be registered again by the next join, or nobody is admitted until the memo runs out (drill 3.3.1).
  redis.on('ready', () => registered.clear())

  // After a command got no answer at all (a hung Redis keeps its connection open), the next calls
  // are refused at once for a second instead of each waiting the timeout (drill 3.3.1-paused).
  const guard = createRedisGuard(redis, { timeoutMs: opts.timeoutMs, pauseOn: 'silence' })

  async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await guard.run(run)
    } catch (cause) {
      throw new AppError('QUEUE_UNAVAILABLE', `The waiting room cannot reach its store (${what}); retry in a moment`, { cause, headers: { 'retry-after': RETRY_AFTER_S } })
    }
  }

  return {
    join: ({ codeHash, ...move }) => guarded('join', () => (codeHash === undefined ? fans.join(move) : fans.joinWithCode({ ...move, codeHash }))),
    poll: (move) => guarded('poll', () => fans.poll(move)),
    leave: (move) => guarded('leave', () => fans.leave(move)),

    async endActiveOnce({ concertId, userId, eventId, now, activeTtlMs }) {
      const k = lineKeys(concertId)
      const keys = [...base(concertId), k.revoked(userId), k.event(eventId)]
      return (await guarded('end', () => cmd.queueEndActiveOnce(...keys, userId, now, activeTtlMs, EVENT_DEDUP_MS))) as 'ENDED' | 'NONE' | 'DUPLICATE'
    },

    async prepareStep({ concertId, tick, now, defaults }) {
      const revocationPrefix = `${redis.options.keyPrefix ?? ''}${lineKeys(concertId).revoked('')}`
      const args = [tick, now, defaults.idleTimeoutMs, defaults.activeIdleMs, STEP_BATCH_LIMIT, revocationPrefix, defaults.activeTtlMs]
      return stepStateOf(await guarded('step', () => cmd.queueStepPrepare(...base(concertId), ...args)))
    },

    async admit({ concertId, now, defaults, decision, cap, inventory, health, spreadSeconds }) {
      const held = decision.reason === 'ALL_SEATS_HELD' && inventory
      const args = [
        decision.admit,
        now,
        defaults.activeTtlMs,
        defaults.tickMs,
        cap ?? -1,
        decision.carry,
        decision.effectiveRate,
        decision.limitedBy,
        decision.reason ?? '',
        held ? inventory.onHold : '',
        held && inventory.nextReleaseAt !== null ? inventory.nextReleaseAt : '',
        health,
        inventory ? inventory.free : '',
        inventory ? inventory.onHold : '',
        defaults.overbook,
        defaults.ratePerSecond,
        Math.floor(defaults.waitingTokenTtlMs / 1000),
        spreadSeconds,
      ]
      const [admitted, waiting, active] = (await guarded('step', () => cmd.queueStepAdmit(...base(concertId), lineKeys(concertId).summary, ...args))).map(Number)
      return { admitted: admitted!, waiting: waiting!, active: active! }
    },

    async held({ concertId, reservationId, userId, until, at }) {
      return (await guarded('inventory', () => cmd.queueInventoryHeld(...inventoryKeys(concertId), reservationId, userId, until, at))) as 'APPLIED' | 'DUPLICATE' | 'STALE'
    },

    async ended({ concertId, reservationId, how, at }) {
      const args = [ENDED_SET[how], reservationId, at, at - ENDED_MEMORY_MS]
      return (await guarded('inventory', () => cmd.queueInventoryEnded(...inventoryKeys(concertId), ...args))) as 'APPLIED' | 'DUPLICATE'
    },

    async applySnapshot({ concertId, snapshot, syncedAt }) {
      const holds = snapshot.holds.flatMap((h) => [h.reservationId, h.userId, h.until])
      const args = [snapshot.asOf, snapshot.total, snapshot.sold, snapshot.opensAt ?? '', syncedAt, ...holds]
      await guarded('inventory', () => cmd.queueInventorySnapshot(...inventoryKeys(concertId), ...args))
    },

    async setSoldOut({ concertId, soldOut, at }) {
      return (await guarded('sold-out', () => cmd.queueSetSoldOut(lineKeys(concertId).soldOut, soldOut ? '1' : '0', at))) === 1
    },

    async concerts() {
      return guarded('concerts', () => redis.smembers(CONCERTS_KEY))
    },

    async register(concertId) {
      const now = Date.now()
      if ((registered.get(concertId) ?? 0) > now - REGISTER_EVERY_MS) return
      await guarded('register', () => redis.sadd(CONCERTS_KEY, concertId))
      registered.set(concertId, now)
    },
  }
}
