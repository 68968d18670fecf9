import { AppError } from '@tickets/shared/errors'
import type { Redis } from 'ioredis'
import type { LineStore, Place, StepResult } from '../domain/ports.js'
import { CONCERTS_KEY, lineKeys } from './keys.js'
import { END_ACTIVE_ONCE, JOIN, LEAVE, POLL, SET_SOLD_OUT, STEP } from './line-scripts.js'

type Reply = string[]
interface LineCommands {
  queueJoin(...args: (string | number)[]): Promise<Reply>
  queuePoll(...args: (string | number)[]): Promise<Reply>
  queueLeave(...args: (string | number)[]): Promise<string>
  queueEndActiveOnce(...args: (string | number)[]): Promise<string>
  queueStep(...args: (string | number)[]): Promise<Reply>
  queueSetSoldOut(...args: (string | number)[]): Promise<number>
}

const SCRIPTS: Record<keyof LineCommands, { numberOfKeys: number; lua: string }> = {
  queueJoin: { numberOfKeys: 8, lua: JOIN },
  queuePoll: { numberOfKeys: 8, lua: POLL },
  queueLeave: { numberOfKeys: 9, lua: LEAVE },
  queueEndActiveOnce: { numberOfKeys: 10, lua: END_ACTIVE_ONCE },
  queueStep: { numberOfKeys: 8, lua: STEP },
  queueSetSoldOut: { numberOfKeys: 1, lua: SET_SOLD_OUT },
}

const RETRY_AFTER_S = '2'
const EVENT_DEDUP_MS = 7 * 24 * 3_600_000
// Bounds one script run (Redis is single-threaded): at most this many admissions, expiries and drop-outs per tick.
const STEP_BATCH_LIMIT = 5_000
const REGISTER_EVERY_MS = 30_000

function base(concertId: string) {
  const k = lineKeys(concertId)
  return [k.seq, k.waiting, k.seen, k.users, k.active, k.settings, k.soldOut, k.stats]
}

function num(value: string | undefined): number | null {
  if (value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

function placeOf(reply: Reply): Place {
  const [status, seq, joinedAt, activeUntil, position, measured, rate, created] = reply
  if (status === 'SOLD_OUT') return { status: 'SOLD_OUT' }
  if (status !== 'ACTIVE' && status !== 'WAITING') return { status: 'EXPIRED' }
  const common = { seq: Number(seq), joinedAt: Number(joinedAt), measuredRate: num(measured), rate: num(rate), created: created === '1' }
  return status === 'ACTIVE' ? { status, ...common, activeUntil: Number(activeUntil) } : { status, ...common, position: Number(position) }
}

/**
 * The line on Redis. While Redis is down or slow every call fails within `timeoutMs` with 503
 * QUEUE_UNAVAILABLE and Retry-After: the client has no offline queue, so nothing piles up, and the
 * next call after Redis returns simply works.
 */
export function createRedisLineStore(redis: Redis, opts: { timeoutMs: number }): LineStore {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, def)
  }
  const cmd = redis as unknown as LineCommands
  const registered = new Map<string, number>()

  async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
    const unavailable = (cause?: unknown) =>
      new AppError('QUEUE_UNAVAILABLE', `The waiting room cannot reach its store (${what}); retry in a moment`, { cause, headers: { 'retry-after': RETRY_AFTER_S } })
    if (redis.status !== 'ready') throw unavailable()
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          // setImmediate runs after the poll phase: a reply that arrived while the event loop was busy
          // is read first, so only a Redis that really did not answer counts as a timeout.
          timer = setTimeout(() => setImmediate(() => reject(new Error(`no answer within ${opts.timeoutMs} ms`))), opts.timeoutMs)
        }),
      ])
    } catch (err) {
      throw unavailable(err)
    } finally {
      clearTimeout(timer)
    }
  }

  return {
    async join({ concertId, userId, now, activeTtlMs }) {
      return placeOf(await guarded('join', () => cmd.queueJoin(...base(concertId), userId, now, activeTtlMs)))
    },

    async poll({ concertId, userId, seq, now }) {
      return placeOf(await guarded('poll', () => cmd.queuePoll(...base(concertId), userId, seq, now)))
    },

    async leave({ concertId, userId, seq, now, activeTtlMs }) {
      const keys = [...base(concertId), lineKeys(concertId).revoked(userId)]
      return (await guarded('leave', () => cmd.queueLeave(...keys, userId, seq, now, activeTtlMs))) as 'LEFT' | 'ENDED' | 'NONE'
    },

    async endActiveOnce({ concertId, userId, eventId, now, activeTtlMs }) {
      const k = lineKeys(concertId)
      const keys = [...base(concertId), k.revoked(userId), k.event(eventId)]
      return (await guarded('end', () => cmd.queueEndActiveOnce(...keys, userId, now, activeTtlMs, EVENT_DEDUP_MS))) as 'ENDED' | 'NONE' | 'DUPLICATE'
    },

    async step({ concertId, tick, now, defaults }): Promise<StepResult> {
      const args = [tick, now, defaults.tickMs, defaults.ratePerSecond, defaults.activeCap, defaults.activeTtlMs, defaults.idleTimeoutMs, STEP_BATCH_LIMIT]
      const [ran, admitted, expired, droppedOut, waiting, active] = (await guarded('step', () => cmd.queueStep(...base(concertId), ...args))).map(Number)
      return { ran: ran === 1, admitted: admitted!, expired: expired!, droppedOut: droppedOut!, waiting: waiting!, active: active! }
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
