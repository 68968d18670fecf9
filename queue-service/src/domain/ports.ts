/** What the waiting room needs from the outside world. Adapters implement these; app.ts wires them. */
import type { PackedDraw } from '@tickets/contracts/draw-records'
import type { Place, PresaleJoinOutcome } from '@tickets/contracts/line-commands'
import type { EmergencyMode } from '@tickets/contracts/line-controls'
import type { AdmissionDecision, AdmissionLimit, InventoryView } from './admission.js'

export interface Clock {
  now(): number
}

export type { EmergencyMode }

/** Defaults the line falls back to where an operator set nothing for the concert. */
export interface LineDefaults {
  ratePerSecond: number
  activeCap: number
  activeTtlMs: number
  /** A WAITING user who has not polled for this long drops out of line. */
  idleTimeoutMs: number
  /** An ACTIVE user who holds no seat and was not seen for this long loses the slot. */
  activeIdleMs: number
  tickMs: number
  /** Non-holding ACTIVE fans per free seat. */
  overbook: number
  /** How long a WAITING token is valid (a fan may keep polling with it). */
  waitingTokenTtlMs: number
}

export type { JoinOutcome, LineInfo, Place, PresaleJoinOutcome } from '@tickets/contracts/line-commands'

/** Where the opening's draw stands, as the step's first half found it: null state before one was committed. */
export interface DrawState {
  state: 'open' | 'frozen' | 'drawn' | null
  opensAt: number | null
  preQueueFrom: number | null
  /** The concert's own pre-queue window (`ops concert:pre-queue`); null: PRE_QUEUE_WINDOW_SECONDS. */
  preQueueWindowMs: number | null
}

/** The line as the first half of a step found it, after expiring and releasing. */
export interface StepState {
  expired: number
  droppedOut: number
  idleReleased: number
  waiting: number
  active: number
  activeHolding: number
  settings: ConcertSettings
  soldOut: boolean
  carry: number
  /** Null until a resync with booking succeeded. */
  inventory: (InventoryView & { syncedAt: number }) | null
  draw: DrawState
}

export interface StepResult {
  /** False when another instance already ran this tick's step. */
  ran: boolean
  admitted: number
  expired: number
  droppedOut: number
  idleReleased: number
  waiting: number
  active: number
  effectiveRate: number
  limitedBy: AdmissionLimit | null
}

export interface ConcertSettings {
  ratePerSecond?: number
  activeCap?: number
  paused?: boolean
  emergency?: EmergencyMode
}

/**
 * One concert's line. Every operation is one atomic step on the store (a Lua script), so any
 * number of queue-service instances share one line without races.
 */
export interface LineStore {
  /**
   * Joins at the back (or the pre-queue, in its window), or returns the place the user already has.
   * `needKnown`: UNSYNCED, changing nothing, while the line has not heard from booking.
   * `codeHash`: a presale code's hash, redeemed (or refused) in the same atomic step as the join.
   */
  join(input: { concertId: string; userId: string; now: number; activeTtlMs: number; overbook: number; needKnown: boolean; codeHash?: string }): Promise<PresaleJoinOutcome>
  /** Where a user with this `seq` (0: a pre-queue token) stands; counts as a sign of life for the idle timeout. */
  poll(input: { concertId: string; userId: string; seq: number; now: number; overbook: number }): Promise<Place>
  /** Leaves the line or ends an ACTIVE slot (revoking its tokens). */
  leave(input: { concertId: string; userId: string; seq: number; now: number; activeTtlMs: number }): Promise<'LEFT' | 'ENDED' | 'NONE'>
  /** Ends the user's ACTIVE slot because of an event; the same event id twice changes nothing. */
  endActiveOnce(input: { concertId: string; userId: string; eventId: string; now: number; activeTtlMs: number }): Promise<'ENDED' | 'NONE' | 'DUPLICATE'>
  /** The first half of a step, if nobody ran this tick yet: expire ACTIVE, drop idle waiters, release idle ACTIVE users. */
  prepareStep(input: { concertId: string; tick: number; now: number; defaults: LineDefaults }): Promise<StepState | null>
  /** The second half: admits what was decided (the cap checked again) and records what polls will say. */
  admit(input: {
    concertId: string
    now: number
    defaults: LineDefaults
    decision: AdmissionDecision
    cap: number | null
    inventory: InventoryView | null
    health: string
    /** Seconds over which fans within reach spread their polls (`pollSpreadSeconds`). */
    spreadSeconds: number
  }): Promise<{ admitted: number; waiting: number; active: number }>
  /** Closes or reopens the line; an older change than the last one applied is ignored. */
  setSoldOut(input: { concertId: string; soldOut: boolean; at: number }): Promise<boolean>
  /** Concerts with a line, for the admission loop. */
  concerts(): Promise<string[]>
  register(concertId: string): Promise<void>
}

/** The concert's inventory, kept from booking's events and healed by booking's snapshot. */
export interface InventoryStore {
  held(input: { concertId: string; reservationId: string; userId: string; until: number; at: number }): Promise<'APPLIED' | 'DUPLICATE' | 'STALE'>
  ended(input: { concertId: string; reservationId: string; how: 'CONFIRMED' | 'RELEASED' | 'REFUNDED'; at: number }): Promise<'APPLIED' | 'DUPLICATE'>
  applySnapshot(input: { concertId: string; snapshot: InventorySnapshot; syncedAt: number }): Promise<void>
}

export interface InventorySnapshot {
  asOf: number
  total: number
  sold: number
  opensAt: number | null
  holds: { reservationId: string; userId: string; until: number }[]
}

/** Booking's view of what is left; null when the concert does not exist. Throws when booking does not answer. */
export interface InventorySource {
  snapshot(concertId: string): Promise<InventorySnapshot | null>
}

/** How hard admission may push: 1 when booking and payment are healthy, less while they struggle. */
export interface AdmissionHealth {
  /** Reads the services' latest reports; keeps the last state when they cannot be read. */
  refresh(): Promise<void>
  current(): { factor: number; why: string }
}

/** Polls a second the gateways can answer for the waiting lines, from what they measured they can answer. */
export interface AnswerCapacity {
  /** Reads the gateways' latest reports; keeps the last figure when they cannot be read. */
  refresh(): Promise<void>
  /** Null while no gateway reported a measurement. */
  pollsPerSecond(): number | null
}

export type ConcertStatus = { exists: boolean; soldOut: boolean } | { unknown: true }

/** Booking's view of a concert. Never throws: when booking does not answer, the status is unknown. */
export interface ConcertDirectory {
  status(concertId: string): Promise<ConcertStatus>
}

export interface TokenIssuer {
  issue(claims: { userId: string; concertId: string; status: 'WAITING' | 'ACTIVE'; seq: number; issuedAt: number; expiresAt: number }): Promise<string>
  verify(
    token: string,
    nowMs: number,
  ): Promise<
    | { ok: true; claims: { userId: string; concertId: string; status: 'WAITING' | 'ACTIVE'; seq: number } }
    | { ok: false; reason: 'invalid' | 'expired'; claims?: { userId: string; concertId: string; seq: number } }
  >
}

/** A draw's record as published: the seed only once drawn. */
export interface DrawRecord {
  state: 'open' | 'frozen' | 'drawn'
  opensAt: number
  preQueueFrom: number
  seedHash: string
  committedAt: number
  /** The pre-queue's size while open; the draw's entries once frozen. */
  entries: number
  frozenAt: number | null
  /** The arrival number before the first drawn place (places are base + 1 .. base + entries). */
  base: number | null
  applied: number
  digest: string | null
  seed: string | null
  drawnAt: number | null
}

/** The opening's draw in the store; the apply steps are atomic and run at most once each. */
export interface DrawStore {
  /** The concert's own pre-queue window (ms), or null for the default. */
  preQueueWindowMs(concertId: string): Promise<number | null>
  commit(input: { concertId: string; now: number; opensAt: number; preQueueFrom: number; seed: string; seedHash: string }): Promise<string>
  /** Takes the draw's lock when it is frozen and free (or held by `owner`). */
  lock(input: { concertId: string; owner: string; ttlMs: number }): Promise<{ locked: false } | { locked: true; seed: string; base: number; entries: number; applied: number }>
  /** The frozen pre-queue, a batch per read: a user may come twice (the store's scan may repeat one). */
  frozenEntries(concertId: string): AsyncIterable<FrozenEntry[]>
  /**
   * Places the fans of `draw` from place `start` + 1 on (`fans`: whom the draw put there), with
   * their stretch of the published order; anything but OK means another run has it, or had it.
   */
  applyChunk(input: {
    concertId: string
    owner: string
    start: number
    now: number
    ttlMs: number
    draw: PackedDraw
    fans: { userId: string; joinedAt: number }[]
  }): Promise<'OK' | 'AT' | 'LOST' | 'DONE'>
  finish(input: { concertId: string; owner: string; now: number; retentionMs: number; digest: string }): Promise<string>
  record(concertId: string): Promise<DrawRecord | null>
  /** Entry ids in drawn order from place offset + 1. */
  orderPage(input: { concertId: string; offset: number; limit: number }): Promise<string[]>
  placeOf(input: { concertId: string; entryId: string }): Promise<number | null>
}

export interface FrozenEntry {
  userId: string
  salt: string
  joinedAt: number
}

/** Computes a draw (contracts' drawOrder of the entries' ids) as its batches of entries arrive. */
export interface DrawComputer {
  /** `fans` of the result index the entries in the order the batches gave them. */
  order(seed: string, batches: AsyncIterable<readonly FrozenEntry[]>): Promise<PackedDraw>
}

export type JoinEventOutcome = 'new' | 'presale' | 'again' | 'pre_queue' | 'not_open_yet' | 'sold_out' | 'unknown_concert' | 'presale_refused'

export interface QueueEvents {
  joined(concertId: string, outcome: JoinEventOutcome): void
  stepped(concertId: string, result: StepResult): void
  resynced(concertId: string, outcome: 'ok' | 'unknown_concert' | 'failed'): void
  activeEnded(concertId: string, reason: 'left' | 'paid'): void
  drew(concertId: string, result: { entries: number; placed: number; seconds: number }): void
  /** A waiting or ACTIVE fan asked where they stand (the console's polls per second). */
  polled(concertId: string): void
}
