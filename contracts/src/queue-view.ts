import { entryIdOf } from './draw.js'
import { AppError } from './errors.js'
import type { LineInfo, Place, PreQueuePlace } from './line-commands.js'
import { estimateWait, MAX_RETRY_S, retryAfterSeconds, type WaitReason } from './queue-line.js'
import type { QueueTokenClaims } from './queue-token.js'

/**
 * What a fan is told about their place: the one answer the queue service and the gateway both give
 * to a join or a poll (`docs/api.md`, the waiting room), from a place the line's scripts returned.
 */

/** Why a fan is not moving forward: the line's reasons, and `OUT_OF_REACH` (more fans ahead than seats could come to). */
export type FanReason = WaitReason | 'OUT_OF_REACH'

export interface ViewSettings {
  /** The admission rate assumed where the line measured none yet. */
  fallbackRate: number
  /** ACTIVE fans admitted per free seat. */
  overbook: number
  waitingTokenTtlMs: number
}

export interface WaitingView {
  status: 'WAITING'
  position: number
  estimatedWaitSeconds: number
  estimatedWaitRangeSeconds: [number, number]
  reason?: FanReason
  seatsOnHold?: number
  nextReleaseAt?: string
  /** With OUT_OF_REACH: the seats neither sold nor out of reach for good (free and held). */
  seatsLeft?: number
  /** The place a presale code gave: the presale line, admitted before the general line. */
  presale?: true
  /** A presale place before the opening: the opening, before which nobody is admitted. */
  opensAt?: string
  retryAfterSeconds: number
}

/** A fan in the pre-queue: the opening, and the entry by which they find themselves in the published draw. */
export interface PreQueueView {
  status: 'PRE_QUEUE'
  position: 0
  /** Seconds to the opening. */
  estimatedWaitSeconds: number
  estimatedWaitRangeSeconds: [number, number]
  opensAt: string
  entryId: string
  entrySalt: string
  preQueued: number
  /** The opening passed and the draw is being applied: the fan's place comes within seconds. */
  drawing: boolean
  retryAfterSeconds: number
}

export type PlaceView =
  | WaitingView
  | PreQueueView
  | { status: 'ACTIVE'; position: 0; estimatedWaitSeconds: 0; estimatedWaitRangeSeconds: [0, 0]; activeUntil: string; presale?: true; retryAfterSeconds: number }
  | { status: 'EXPIRED' | 'SOLD_OUT'; position: 0; estimatedWaitSeconds: 0; estimatedWaitRangeSeconds: [0, 0] }

// An ACTIVE fan has nothing to wait for; the hint only spaces out a client that polls anyway.
const ACTIVE_RETRY_S = 15
// A hold's seat counts as free only after booking's sweeper released it and the next step ran.
const RELEASE_LAG_S = 2

/**
 * How many places of the line the seats still on sale can reach: each free or held seat may be
 * offered to `overbook` fans. Null while the line does not know its seats.
 */
export function placesInReach(line: Pick<LineInfo, 'free' | 'held'>, overbook: number): number | null {
  if (line.free === null || line.held === null) return null
  return Math.ceil((line.free + line.held) * Math.max(overbook, 1))
}

/**
 * The earliest hint of at least `hint` seconds that brings the fan back on their own second of a
 * `period`-second cycle (the second their arrival number `seq` gives), never beyond the longest
 * hint. Fans answered at any moment, in any shape of crowd, come back spread evenly over the
 * cycle: `waiting / period` a second at most, never a wave.
 */
export function onOwnSlot(hint: number, seq: number, now: number, period: number): number {
  const cycle = Math.max(1, Math.min(MAX_RETRY_S, Math.floor(period)))
  const back = Math.floor(now / 1000) + hint
  const wait = (((seq - back) % cycle) + cycle) % cycle
  return Math.min(MAX_RETRY_S, hint + wait)
}

/**
 * When a fan beyond reach polls next: once a minute, on their own second of it. A line of 100,000
 * costs 1/60 of its length in polls each second, and a sell-out still reaches every fan within
 * the minute.
 */
export function retryAfterOutOfReach(seq: number, now: number): number {
  return onOwnSlot(1, seq, now, MAX_RETRY_S)
}

/**
 * Over how many seconds the fans within reach must spread their polls so that the whole line asks
 * no more than `pollsPerSecond` (the share of what the gateways measured they can answer): fans
 * beyond reach poll once a minute, those within reach share what is left. 1 (no spreading) while
 * no gateway measured anything; never more than the longest hint, since a sell-out must reach
 * every fan within it.
 */
export function pollSpreadSeconds(input: { waiting: number; free: number | null; held: number | null; overbook: number; pollsPerSecond: number | null }): number {
  if (input.pollsPerSecond === null || input.waiting <= 0) return 1
  const reach = placesInReach(input, input.overbook) ?? input.waiting
  const within = Math.min(input.waiting, reach)
  const left = input.pollsPerSecond - (input.waiting - within) / MAX_RETRY_S
  if (left * MAX_RETRY_S <= within) return MAX_RETRY_S
  return Math.max(1, Math.ceil(within / left))
}

/** The answer to a fan beyond reach: the chance is small, how many seats are left, and their slot in the minute. */
function outOfReach(view: WaitingView, seatsLeft: number, seq: number, now: number): WaitingView {
  return { ...view, reason: 'OUT_OF_REACH', seatsLeft, retryAfterSeconds: retryAfterOutOfReach(seq, now) }
}

/**
 * While every unsold seat is on hold, nothing moves before a hold ends: a fan within reach is not
 * brought back before the hold that could free a seat for them ended, nor later than the usual
 * longest hint (a sell-out must reach them within it).
 */
export function retryAfterWhileHeld(input: { estimatedWaitSeconds: number; secondsToRelease: number }): number {
  const usual = retryAfterSeconds(input.estimatedWaitSeconds)
  return Math.min(MAX_RETRY_S, Math.max(usual, Math.ceil(input.secondsToRelease) + RELEASE_LAG_S))
}

/** `seq`: the fan's arrival number (it gives a fan beyond reach their second of the minute). */
export function waitingView(position: number, seq: number, line: LineInfo, settings: ViewSettings, now: number): WaitingView {
  const estimate = estimateWait(position, line, line.rate ?? settings.fallbackRate)
  const view: WaitingView = {
    status: 'WAITING',
    position,
    estimatedWaitSeconds: estimate.seconds,
    estimatedWaitRangeSeconds: estimate.range,
    retryAfterSeconds: retryAfterSeconds(estimate.seconds),
  }
  if (line.reason) view.reason = line.reason
  const reach = placesInReach(line, settings.overbook)
  if (line.reason !== 'PAUSED' && line.reason !== 'NOT_OPEN_YET' && reach !== null && position > reach) return outOfReach(view, line.free! + line.held!, seq, now)
  if (line.reason !== 'ALL_SEATS_HELD' || line.seatsOnHold === null) return spread(view, seq, line, now)
  const releaseAt = line.releaseForPosition ?? line.nextReleaseAt
  const secondsToRelease = releaseAt === null ? 0 : Math.max(0, (releaseAt - now) / 1000)
  view.estimatedWaitSeconds = Math.max(estimate.seconds, Math.ceil(secondsToRelease))
  view.estimatedWaitRangeSeconds = [Math.max(estimate.range[0], Math.ceil(secondsToRelease)), Math.max(estimate.range[1], view.estimatedWaitSeconds)]
  view.seatsOnHold = line.seatsOnHold
  if (line.nextReleaseAt !== null) view.nextReleaseAt = new Date(line.nextReleaseAt).toISOString()
  view.retryAfterSeconds = retryAfterWhileHeld({ estimatedWaitSeconds: view.estimatedWaitSeconds, secondsToRelease })
  return spread(view, seq, line, now)
}

/** A fan within reach comes back no sooner than their hint says, on their own second of the line's spread. */
function spread(view: WaitingView, seq: number, line: LineInfo, now: number): WaitingView {
  if (line.spreadSeconds === null || line.spreadSeconds <= 1) return view
  view.retryAfterSeconds = onOwnSlot(view.retryAfterSeconds, seq, now, line.spreadSeconds)
  return view
}

/** A fan's second of the minute in the pre-queue, from their entry's salt (they have no arrival number yet). */
function slotOf(salt: string): number {
  return Number.parseInt(salt.slice(0, 8), 16) || 0
}

/**
 * A pre-queued fan polls once a minute on their own second of it, so the polls of the pre-queue
 * are spread evenly, and after the opening they come back over the first minute, not at its
 * first second.
 */
export function preQueueView(place: PreQueuePlace, userId: string, now: number): PreQueueView {
  const seconds = Math.max(0, Math.ceil((place.opensAt - now) / 1000))
  return {
    status: 'PRE_QUEUE',
    position: 0,
    estimatedWaitSeconds: seconds,
    estimatedWaitRangeSeconds: [seconds, seconds],
    opensAt: new Date(place.opensAt).toISOString(),
    entryId: entryIdOf(userId, place.salt),
    entrySalt: place.salt,
    preQueued: place.preQueued,
    drawing: place.drawing,
    retryAfterSeconds: onOwnSlot(1, slotOf(place.salt), now, MAX_RETRY_S),
  }
}

/**
 * A presale place before the opening is admitted at it, first: like a pre-queued fan, the fan polls
 * once a minute on their own second of it (their arrival number gives it), so the presale line's
 * polls are spread evenly before the opening and over the first minute after it.
 */
function beforeOpening(view: WaitingView, seq: number, opensAt: number, now: number): WaitingView {
  return { ...view, opensAt: new Date(opensAt).toISOString(), retryAfterSeconds: onOwnSlot(1, seq, now, MAX_RETRY_S) }
}

// The longest wait a join before the pre-queue is told; its Retry-After is never past the pre-queue's start.
const MAX_NOT_YET_S = 3_600

/** A user's second of the minute before they have an entry (FNV-1a of the id). */
function userSlot(userId: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193)
  return (h >>> 0) % MAX_RETRY_S
}

/**
 * The refusal of a join before the pre-queue opens: the opening and the pre-queue's start when the
 * draw is committed, and a Retry-After that brings the fan back at the start, on a second of the
 * minute of their own (or in 2 s, while the draw is being committed).
 */
export function notOpenYet(input: { concertId: string; userId: string; opensAt: number | null; preQueueOpensAt: number | null }, now: number): AppError {
  const extra: Record<string, unknown> = {}
  if (input.opensAt !== null) extra.opensAt = new Date(input.opensAt).toISOString()
  if (input.preQueueOpensAt !== null) extra.preQueueOpensAt = new Date(input.preQueueOpensAt).toISOString()
  const toStart = input.preQueueOpensAt === null ? 2 : Math.ceil((input.preQueueOpensAt - now) / 1000) + userSlot(input.userId)
  const retryAfter = Math.min(MAX_NOT_YET_S, Math.max(1, toStart))
  const when = input.preQueueOpensAt === null ? 'in a moment' : `at ${extra.preQueueOpensAt as string}`
  return new AppError('QUEUE_NOT_OPEN_YET', `The pre-queue for concert ${input.concertId} opens ${when}`, { extra, headers: { 'retry-after': String(retryAfter) } })
}

const ended = () => ({ position: 0 as const, estimatedWaitSeconds: 0 as const, estimatedWaitRangeSeconds: [0, 0] as [0, 0] })

/** The view of a place, and the claims of the token that goes with it (none for an ended place). */
export function viewOfPlace(place: Place, who: { concertId: string; userId: string }, settings: ViewSettings, now: number): { view: PlaceView; claims: QueueTokenClaims | null } {
  if (place.status === 'EXPIRED' || place.status === 'SOLD_OUT') return { view: { status: place.status, ...ended() }, claims: null }
  const issuedAt = Math.floor(place.joinedAt / 1000)
  if (place.status === 'PRE_QUEUE') {
    // seq 0: the token stands for the place the draw will give; the first poll after it trades it in.
    const claims = { ...who, status: 'WAITING' as const, seq: 0, issuedAt, expiresAt: issuedAt + Math.floor(settings.waitingTokenTtlMs / 1000) }
    return { view: preQueueView(place, who.userId, now), claims }
  }
  const presale = place.presale ? ({ presale: true } as const) : {}
  if (place.status === 'ACTIVE') {
    return {
      view: { status: 'ACTIVE', ...ended(), activeUntil: new Date(place.activeUntil).toISOString(), ...presale, retryAfterSeconds: ACTIVE_RETRY_S },
      claims: { ...who, status: 'ACTIVE', seq: place.seq, issuedAt, expiresAt: Math.floor(place.activeUntil / 1000), ...presale },
    }
  }
  const waiting = waitingView(place.position, place.seq, place.line, settings, now)
  return {
    view: place.opensAt !== null && place.opensAt > now ? beforeOpening({ ...waiting, ...presale }, place.seq, place.opensAt, now) : { ...waiting, ...presale },
    claims: { ...who, status: 'WAITING', seq: place.seq, issuedAt, expiresAt: issuedAt + Math.floor(settings.waitingTokenTtlMs / 1000), ...presale },
  }
}

type WithoutHint<V> = V extends unknown ? Omit<V, 'retryAfterSeconds'> : never

/** A view as sent: the body, and its hint for the `Retry-After` header (none for an ended place). */
export function withoutHint<V extends object>(view: V): { body: WithoutHint<V>; retryAfter: string | undefined } {
  if (!('retryAfterSeconds' in view)) return { body: view as unknown as WithoutHint<V>, retryAfter: undefined }
  const { retryAfterSeconds, ...body } = view as V & { retryAfterSeconds: number }
  return { body: body as WithoutHint<V>, retryAfter: String(retryAfterSeconds) }
}
