import { AppError } from '@tickets/contracts/errors'
import { createRedisGuard, type RedisClient } from '@tickets/shared/redis'
import { fanMoves, lineScriptRunner } from '@tickets/contracts/line-commands'
import { END_ACTIVE_ONCE } from '@tickets/contracts/line-fan-scripts'
import { INVENTORY_ENDED, INVENTORY_HELD, INVENTORY_SNAPSHOT } from '@tickets/contracts/line-inventory-scripts'
import { CONCERTS_KEY, lineKeys } from '@tickets/contracts/line-keys'
import { SET_SOLD_OUT, STEP_ADMIT, STEP_PREPARE } from '@tickets/contracts/line-step-scripts'
import { fieldsOf, keyNumber, type Fields } from '@tickets/contracts/lua-script'
import type { ConcertSettings, DrawState, InventoryStore, LineStore, StepState } from '../domain/ports.js'

const RETRY_AFTER_S = '2'
const EVENT_DEDUP_MS = 7 * 24 * 3_600_000
// Ended reservations are remembered this long: longer than any redelivery of the events that name them.
const ENDED_MEMORY_MS = 24 * 3_600_000
// Bounds one script run (Redis is single-threaded): at most this many admissions, expiries and drop-outs per tick.
export const STEP_BATCH_LIMIT = 5_000
const REGISTER_EVERY_MS = 30_000
const ENDED_SET = {
  CONFIRMED: keyNumber(INVENTORY_ENDED, 'endedConfirmed'),
  RELEASED: keyNumber(INVENTORY_ENDED, 'endedReleased'),
  REFUNDED: keyNumber(INVENTORY_ENDED, 'endedRefunded'),
}

function num(value: string | undefined): number | null {
  if (value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

function stepStateOf(r: Fields<typeof STEP_PREPARE.reply>): StepState | null {
  if (r.ran !== '1') return null
  const settings: ConcertSettings = { paused: r.paused === '1' }
  if (num(r.cfgRate) !== null) settings.ratePerSecond = num(r.cfgRate)!
  if (num(r.cfgCap) !== null) settings.activeCap = num(r.cfgCap)!
  if (r.mode === 'queue-all' || r.mode === 'let-all') settings.emergency = r.mode
  const held = Number(r.onHold)
  const free = Math.max(0, Number(r.total) - Number(r.sold) - held)
  return {
    expired: Number(r.expired),
    droppedOut: Number(r.droppedOut),
    idleReleased: Number(r.idleReleased),
    waiting: Number(r.waiting),
    active: Number(r.active),
    activeHolding: Number(r.activeHolding),
    settings,
    soldOut: r.soldOut === '1',
    carry: Number(r.carry) || 0,
    inventory: r.known === '1' ? { free, onHold: held, nextReleaseAt: num(r.nextReleaseAt), opensAt: num(r.opensAt), syncedAt: Number(r.syncedAt) } : null,
    draw: {
      state: DRAW_STATES.find((d) => d === r.drawState) ?? null,
      opensAt: num(r.drawOpens),
      preQueueFrom: num(r.drawFrom),
      preQueueWindowMs: num(r.preQueueWindowS) === null ? null : num(r.preQueueWindowS)! * 1000,
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
  const run = lineScriptRunner(redis)
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
      const keys = { ...k, revoked: k.revoked(userId), event: k.event(eventId) }
      return guarded('end', () => run(END_ACTIVE_ONCE, keys, { userId, now, activeTtlMs, dedupTtlMs: EVENT_DEDUP_MS }))
    },

    async prepareStep({ concertId, tick, now, defaults }) {
      const k = lineKeys(concertId)
      const argv = {
        tick,
        now,
        waitingIdleMs: defaults.idleTimeoutMs,
        activeIdleMs: defaults.activeIdleMs,
        batchLimit: STEP_BATCH_LIMIT,
        revocationKeyPrefix: `${redis.options.keyPrefix ?? ''}${k.revoked('')}`,
        activeTtlMs: defaults.activeTtlMs,
      }
      return stepStateOf(fieldsOf(STEP_PREPARE.reply, await guarded('step', () => run(STEP_PREPARE, k, argv))))
    },

    async admit({ concertId, now, defaults, decision, cap, inventory, health, spreadSeconds }) {
      const held = decision.reason === 'ALL_SEATS_HELD' && inventory
      const argv = {
        n: decision.admit,
        now,
        activeTtlMs: defaults.activeTtlMs,
        tickMs: defaults.tickMs,
        cap: cap ?? -1,
        carry: decision.carry,
        effectiveRate: decision.effectiveRate,
        why: decision.limitedBy,
        reason: decision.reason ?? '',
        onHold: held ? inventory.onHold : '',
        nextReleaseAt: held && inventory.nextReleaseAt !== null ? inventory.nextReleaseAt : '',
        health,
        free: inventory ? inventory.free : '',
        held: inventory ? inventory.onHold : '',
        overbook: defaults.overbook,
        defaultRate: defaults.ratePerSecond,
        waitingTokenTtlS: Math.floor(defaults.waitingTokenTtlMs / 1000),
        spreadSeconds,
      }
      const reply = fieldsOf(STEP_ADMIT.reply, await guarded('step', () => run(STEP_ADMIT, lineKeys(concertId), argv)))
      return { admitted: Number(reply.admitted), waiting: Number(reply.waiting), active: Number(reply.active) }
    },

    async held({ concertId, reservationId, userId, until, at }) {
      return guarded('inventory', () => run(INVENTORY_HELD, lineKeys(concertId), { reservationId, userId, until, occurredAt: at }))
    },

    async ended({ concertId, reservationId, how, at }) {
      const argv = { endedSet: ENDED_SET[how], reservationId, occurredAt: at, forgetBefore: at - ENDED_MEMORY_MS }
      return guarded('inventory', () => run(INVENTORY_ENDED, lineKeys(concertId), argv))
    },

    async applySnapshot({ concertId, snapshot, syncedAt }) {
      const argv = { asOf: snapshot.asOf, total: snapshot.total, sold: snapshot.sold, opensAt: snapshot.opensAt ?? '', syncedAt }
      await guarded('inventory', () => run(INVENTORY_SNAPSHOT, lineKeys(concertId), argv, snapshot.holds))
    },

    async setSoldOut({ concertId, soldOut, at }) {
      return (await guarded('sold-out', () => run(SET_SOLD_OUT, lineKeys(concertId), { soldOut: soldOut ? '1' : '0', at }))) === 1
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
