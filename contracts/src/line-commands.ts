import { newEntrySalt } from './draw.js'
import { DRAW_APPLY, DRAW_COMMIT, DRAW_FINISH, DRAW_LOCK, DRAW_PLACE } from './line-draw-scripts.js'
import { END_ACTIVE_ONCE, FAN_REPLY, JOIN, LEAVE, POLL } from './line-fan-scripts.js'
import { INVENTORY_ENDED, INVENTORY_HELD, INVENTORY_SNAPSHOT } from './line-inventory-scripts.js'
import { lineKeys } from './line-keys.js'
import { PRESALE_CREATE, PRESALE_JOIN } from './line-presale-scripts.js'
import { SET_SOLD_OUT, STEP_ADMIT, STEP_PREPARE } from './line-step-scripts.js'
import { scriptRunner, taggedOf, type ScriptHost } from './lua-script.js'
import type { WaitReason } from './queue-line.js'

/**
 * The line's scripts on a client, and the fan's three moves (join, poll, leave) with their replies
 * decoded. The queue service and the gateway both call these: one set of scripts, one decoding.
 */
export type { ScriptHost }

export const LINE_SCRIPTS = [
  JOIN,
  POLL,
  LEAVE,
  END_ACTIVE_ONCE,
  STEP_PREPARE,
  STEP_ADMIT,
  SET_SOLD_OUT,
  INVENTORY_HELD,
  INVENTORY_ENDED,
  INVENTORY_SNAPSHOT,
  DRAW_COMMIT,
  DRAW_LOCK,
  DRAW_APPLY,
  DRAW_FINISH,
  DRAW_PLACE,
  PRESALE_JOIN,
  PRESALE_CREATE,
]

/** Runs the line's scripts on a client, every one of them defined there at once. */
export function lineScriptRunner(redis: ScriptHost) {
  return scriptRunner(redis, LINE_SCRIPTS)
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
  | {
      status: 'WAITING'
      seq: number
      joinedAt: number
      position: number
      line: LineInfo
      created: boolean
      presale: boolean
      /** A presale place taken in the pre-queue's window: the opening (ms) until the draw froze it; null otherwise. */
      opensAt: number | null
    }
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

/** Decodes the reply of JOIN, POLL and a PRESALE_JOIN that redeemed its code. */
export function placeOf(reply: readonly string[]): JoinOutcome {
  const r = taggedOf(FAN_REPLY, reply)
  if (!r || r.tag === 'EXPIRED') return { status: 'EXPIRED' }
  if (r.tag === 'SOLD_OUT' || r.tag === 'UNSYNCED') return { status: r.tag }
  if (r.tag === 'NOT_YET') return { status: r.tag, opensAt: num(r.opensAt), preQueueOpensAt: num(r.preQueueOpensAt) }
  if (r.tag === 'PRE_QUEUE') {
    const { salt, joinedAt, opensAt, phase, created, preQueued } = r
    return {
      status: r.tag,
      salt: salt!,
      joinedAt: Number(joinedAt),
      opensAt: Number(opensAt),
      drawing: phase === 'drawing',
      created: created === '1',
      preQueued: Number(preQueued),
    }
  }
  const line: LineInfo = {
    measuredRate: num(r.measuredRate),
    deviation: num(r.deviation),
    effectiveRate: num(r.effectiveRate),
    rate: num(r.rate),
    reason: REASONS.find((reason) => reason === r.reason) ?? null,
    seatsOnHold: num(r.seatsOnHold),
    nextReleaseAt: num(r.nextReleaseAt),
    releaseForPosition: num(r.releaseForPosition),
    free: num(r.free),
    held: num(r.held),
    spreadSeconds: num(r.spreadSeconds),
  }
  const common = { seq: Number(r.seq), joinedAt: Number(r.joinedAt), line, created: r.created === '1', presale: r.presale === '1' }
  return r.tag === 'ACTIVE' ? { status: r.tag, ...common, activeUntil: Number(r.activeUntil) } : { status: r.tag, ...common, position: Number(r.position), opensAt: num(r.opensAt) }
}

function codeRefusalOf(reply: readonly string[]): CodeRefusal | null {
  const r = taggedOf(PRESALE_JOIN.reply, reply)
  if (r?.tag === 'CODE_WRONG') return { status: 'CODE_REFUSED', why: 'WRONG' }
  if (r?.tag === 'CODE_SPENT') return { status: 'CODE_REFUSED', why: 'SPENT' }
  if (r?.tag === 'CODE_OTHER') return { status: 'CODE_REFUSED', why: 'OTHER' }
  if (r?.tag === 'CODE_OUTSIDE') return { status: 'CODE_REFUSED', why: 'OUTSIDE', from: Number(r.from), to: Number(r.to) }
  return null
}

function asPlace(outcome: JoinOutcome): Place {
  return outcome.status === 'NOT_YET' || outcome.status === 'UNSYNCED' ? { status: 'EXPIRED' } : outcome
}

export type LeaveOutcome = (typeof LEAVE.reply.oneOf)[number]

/** A fan's three moves on the line, each one script call. */
export function fanMoves(redis: ScriptHost) {
  const run = lineScriptRunner(redis)
  return {
    /** `needKnown`: answer UNSYNCED (changing nothing) while the line has not heard from booking. */
    async join(a: { concertId: string; userId: string; now: number; activeTtlMs: number; overbook: number; needKnown: boolean }): Promise<JoinOutcome> {
      return placeOf(await run(JOIN, lineKeys(a.concertId), { ...a, salt: newEntrySalt(), needKnown: a.needKnown ? '1' : '0' }))
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
      const keys = { ...k, presaleCode: k.presaleCode(a.codeHash) }
      const reply = await run(PRESALE_JOIN, keys, { ...a, needKnown: a.needKnown ? '1' : '0' })
      return codeRefusalOf(reply) ?? placeOf(reply)
    },
    /** seq 0: a pre-queue token. */
    async poll(a: { concertId: string; userId: string; seq: number; now: number; overbook: number }): Promise<Place> {
      return asPlace(placeOf(await run(POLL, lineKeys(a.concertId), a)))
    },
    async leave(a: { concertId: string; userId: string; seq: number; now: number; activeTtlMs: number }): Promise<LeaveOutcome> {
      const k = lineKeys(a.concertId)
      return run(LEAVE, { ...k, revoked: k.revoked(a.userId) }, a)
    },
  }
}

export type FanMoves = ReturnType<typeof fanMoves>
