import { lineKeys } from './line-keys.js'
import { DRAW_APPLY, DRAW_COMMIT, DRAW_FINISH, DRAW_LOCK } from './line-draw-scripts.js'
import { END_ACTIVE_ONCE, JOIN, LEAVE, POLL } from './line-fan-scripts.js'
import { INVENTORY_ENDED, INVENTORY_HELD, INVENTORY_SNAPSHOT } from './line-inventory-scripts.js'
import { PRESALE_CREATE, PRESALE_JOIN } from './line-presale-scripts.js'
import { SET_SOLD_OUT, STEP_ADMIT, STEP_PREPARE } from './line-step-scripts.js'
import { newEntrySalt } from './draw.js'
import type { WaitReason } from './queue-line.js'

/**
 * The line's Lua scripts as commands of a Redis client, and the fan's three moves (join, poll,
 * leave) with their replies decoded. The queue service and the gateway both call these: one set of
 * scripts, one decoding. `ScriptHost` is the part of an ioredis client (or Cluster) used here.
 */
export interface ScriptHost {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void
}

type Reply = string[]
type Args = (string | number)[]
export interface LineCommands {
  queueJoin(...args: Args): Promise<Reply>
  queuePoll(...args: Args): Promise<Reply>
  queueLeave(...args: Args): Promise<string>
  queueEndActiveOnce(...args: Args): Promise<string>
  queueStepPrepare(...args: Args): Promise<Reply>
  queueStepAdmit(...args: Args): Promise<Reply>
  queueSetSoldOut(...args: Args): Promise<number>
  queueInventoryHeld(...args: Args): Promise<string>
  queueInventoryEnded(...args: Args): Promise<string>
  queueInventorySnapshot(...args: Args): Promise<number>
  queueDrawCommit(...args: Args): Promise<string>
  queueDrawLock(...args: Args): Promise<Reply>
  queueDrawApply(...args: Args): Promise<Reply>
  queueDrawFinish(...args: Args): Promise<string>
  queuePresaleJoin(...args: Args): Promise<Reply>
  queuePresaleCreate(...args: Args): Promise<number>
}

const LINE_KEYS = 17
const INVENTORY_KEYS = 7
const SCRIPTS: Record<keyof LineCommands, { numberOfKeys: number; lua: string }> = {
  queueJoin: { numberOfKeys: LINE_KEYS, lua: JOIN },
  queuePoll: { numberOfKeys: LINE_KEYS, lua: POLL },
  queueLeave: { numberOfKeys: LINE_KEYS + 1, lua: LEAVE },
  queueEndActiveOnce: { numberOfKeys: LINE_KEYS + 2, lua: END_ACTIVE_ONCE },
  queueStepPrepare: { numberOfKeys: LINE_KEYS, lua: STEP_PREPARE },
  queueStepAdmit: { numberOfKeys: LINE_KEYS + 1, lua: STEP_ADMIT },
  queueSetSoldOut: { numberOfKeys: 1, lua: SET_SOLD_OUT },
  queueInventoryHeld: { numberOfKeys: INVENTORY_KEYS, lua: INVENTORY_HELD },
  queueInventoryEnded: { numberOfKeys: INVENTORY_KEYS, lua: INVENTORY_ENDED },
  queueInventorySnapshot: { numberOfKeys: INVENTORY_KEYS, lua: INVENTORY_SNAPSHOT },
  queueDrawCommit: { numberOfKeys: 1, lua: DRAW_COMMIT },
  queueDrawLock: { numberOfKeys: 2, lua: DRAW_LOCK },
  queueDrawApply: { numberOfKeys: 7, lua: DRAW_APPLY },
  queueDrawFinish: { numberOfKeys: 5, lua: DRAW_FINISH },
  queuePresaleJoin: { numberOfKeys: LINE_KEYS + 2, lua: PRESALE_JOIN },
  queuePresaleCreate: { numberOfKeys: 2, lua: PRESALE_CREATE },
}

/** Defines every line script on the client (once: a client that has them keeps them). */
export function lineCommandsOf(redis: ScriptHost): LineCommands {
  for (const [name, def] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, def)
  }
  return redis as unknown as LineCommands
}

/** KEYS 1..17 of the line scripts, in their order. */
export function lineScriptKeys(concertId: string): string[] {
  const k = lineKeys(concertId)
  return [
    ...[k.seq, k.waiting, k.seen, k.users, k.active, k.settings, k.soldOut, k.stats, k.seenActive, k.inventory, k.holds, k.holders, k.userHolds],
    ...[k.draw, k.preQueue, k.preQueueFrozen, k.preQueueLeft],
  ]
}

/** What the last admission step left for polls to read. */
export interface LineInfo {
  /** Admissions per second over recent steps (moving average) and its mean deviation. */
  measuredRate: number | null
  deviation: number | null
  /** The rate the last step allowed (the ceiling times the health factor). */
  effectiveRate: number | null
  /** The operator's rate for this concert, if any. */
  rate: number | null
  reason: WaitReason | null
  seatsOnHold: number | null
  nextReleaseAt: number | null
  /** While every seat is held: the earliest moment this place could be admitted (the deadline of the hold that would free its seat). */
  releaseForPosition: number | null
  /** Seats neither sold nor held, and seats held, at the last step; null before booking was asked. */
  free: number | null
  held: number | null
  /** Seconds over which fans within reach spread their polls (`pollSpreadSeconds`); null before a step set it. */
  spreadSeconds: number | null
}

/** A fan in the pre-queue: their entry's salt, and the opening (ms) at which the draw places them. */
export interface PreQueuePlace {
  status: 'PRE_QUEUE'
  salt: string
  joinedAt: number
  opensAt: number
  /** The opening passed and the draw is being applied. */
  drawing: boolean
  created: boolean
  /** Fans in the pre-queue (or in the draw, once frozen). */
  preQueued: number
}

/**
 * A user's place as the line knows it. `seq` is the Redis-side arrival number (FIFO across
 * instances); a pre-queue place has none until the draw gives it one.
 */
export type Place =
  | { status: 'WAITING'; seq: number; joinedAt: number; position: number; line: LineInfo; created: boolean; presale: boolean }
  | { status: 'ACTIVE'; seq: number; joinedAt: number; activeUntil: number; line: LineInfo; created: boolean; presale: boolean }
  | PreQueuePlace
  | { status: 'SOLD_OUT' }
  | { status: 'EXPIRED' }

/**
 * What a join may find besides a place: the pre-queue is not open yet (the times are null while the
 * draw is not committed), or the line does not know its opening yet (the caller asks booking first).
 */
export type JoinOutcome = Place | { status: 'NOT_YET'; opensAt: number | null; preQueueOpensAt: number | null } | { status: 'UNSYNCED' }

/** Why a presale code was not redeemed: unknown, outside its window (from, to: ms), used up, or the user redeemed another. */
export type CodeRefusal = { status: 'CODE_REFUSED'; why: 'WRONG' | 'SPENT' | 'OTHER' } | { status: 'CODE_REFUSED'; why: 'OUTSIDE'; from: number; to: number }

export type PresaleJoinOutcome = JoinOutcome | CodeRefusal

function num(value: string | undefined): number | null {
  if (value === undefined || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

const REASONS: readonly WaitReason[] = ['ALL_SEATS_HELD', 'PAUSED', 'NOT_OPEN_YET']

/** Decodes the reply of JOIN and POLL. */
export function placeOf(reply: Reply): JoinOutcome {
  const [status, seq, joinedAt, activeUntil, position, measured, dev, eff, rate, reason, onHold, nextRelease, free, held, created, releaseFor, spread, presale] = reply
  if (status === 'SOLD_OUT') return { status: 'SOLD_OUT' }
  if (status === 'PRE_QUEUE') return preQueuePlaceOf(reply)
  if (status === 'NOT_YET') return { status, opensAt: num(reply[1]), preQueueOpensAt: num(reply[2]) }
  if (status === 'UNSYNCED') return { status }
  if (status !== 'ACTIVE' && status !== 'WAITING') return { status: 'EXPIRED' }
  const line: LineInfo = {
    measuredRate: num(measured),
    deviation: num(dev),
    effectiveRate: num(eff),
    rate: num(rate),
    reason: REASONS.find((r) => r === reason) ?? null,
    seatsOnHold: num(onHold),
    nextReleaseAt: num(nextRelease),
    releaseForPosition: num(releaseFor),
    free: num(free),
    held: num(held),
    spreadSeconds: num(spread),
  }
  const common = { seq: Number(seq), joinedAt: Number(joinedAt), line, created: created === '1', presale: presale === '1' }
  return status === 'ACTIVE' ? { status, ...common, activeUntil: Number(activeUntil) } : { status, ...common, position: Number(position) }
}

function preQueuePlaceOf(reply: Reply): PreQueuePlace {
  const [, salt, joinedAt, opensAt, phase, created, count] = reply
  return {
    status: 'PRE_QUEUE',
    salt: salt!,
    joinedAt: Number(joinedAt),
    opensAt: Number(opensAt),
    drawing: phase === 'drawing',
    created: created === '1',
    preQueued: Number(count),
  }
}

function codeRefusalOf(reply: Reply): CodeRefusal | null {
  const [status, from, to] = reply
  if (status === 'CODE_WRONG') return { status: 'CODE_REFUSED', why: 'WRONG' }
  if (status === 'CODE_SPENT') return { status: 'CODE_REFUSED', why: 'SPENT' }
  if (status === 'CODE_OTHER') return { status: 'CODE_REFUSED', why: 'OTHER' }
  if (status === 'CODE_OUTSIDE') return { status: 'CODE_REFUSED', why: 'OUTSIDE', from: Number(from), to: Number(to) }
  return null
}

function asPlace(outcome: JoinOutcome): Place {
  return outcome.status === 'NOT_YET' || outcome.status === 'UNSYNCED' ? { status: 'EXPIRED' } : outcome
}

export type LeaveOutcome = 'LEFT' | 'ENDED' | 'NONE'

/** A fan's three moves on the line, each one script call. */
export function fanMoves(redis: ScriptHost) {
  const cmd = lineCommandsOf(redis)
  return {
    /** `needKnown`: answer UNSYNCED (changing nothing) while the line has not heard from booking. */
    async join(a: { concertId: string; userId: string; now: number; activeTtlMs: number; overbook: number; needKnown: boolean }): Promise<JoinOutcome> {
      const salt = newEntrySalt()
      return placeOf(await cmd.queueJoin(...lineScriptKeys(a.concertId), a.userId, a.now, a.activeTtlMs, a.overbook, salt, a.needKnown ? '1' : '0'))
    },
    /** A join with a presale code (`codeHash`: see presale.ts), redeemed in the same script that checks it. */
    async joinWithCode(a: {
      concertId: string
      userId: string
      codeHash: string
      now: number
      activeTtlMs: number
      overbook: number
      needKnown: boolean
    }): Promise<PresaleJoinOutcome> {
      const k = lineKeys(a.concertId)
      const keys = [...lineScriptKeys(a.concertId), k.presaleCode(a.codeHash), k.presaleUsers]
      const reply = await cmd.queuePresaleJoin(...keys, a.userId, a.now, a.activeTtlMs, a.overbook, a.codeHash, a.needKnown ? '1' : '0')
      return codeRefusalOf(reply) ?? placeOf(reply)
    },
    /** seq 0: a pre-queue token. */
    async poll(a: { concertId: string; userId: string; seq: number; now: number; overbook: number }): Promise<Place> {
      return asPlace(placeOf(await cmd.queuePoll(...lineScriptKeys(a.concertId), a.userId, a.seq, a.now, a.overbook)))
    },
    async leave(a: { concertId: string; userId: string; seq: number; now: number; activeTtlMs: number }): Promise<LeaveOutcome> {
      const keys = [...lineScriptKeys(a.concertId), lineKeys(a.concertId).revoked(a.userId)]
      return (await cmd.queueLeave(...keys, a.userId, a.seq, a.now, a.activeTtlMs)) as LeaveOutcome
    },
  }
}

export type FanMoves = ReturnType<typeof fanMoves>
