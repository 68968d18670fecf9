/** What the waiting room needs from the outside world. Adapters implement these; app.ts wires them. */

export interface Clock {
  now(): number
}

export type EmergencyMode = 'queue-all' | 'let-all'

/** Defaults the line falls back to where an operator set nothing for the concert. */
export interface LineDefaults {
  ratePerSecond: number
  activeCap: number
  activeTtlMs: number
  idleTimeoutMs: number
  tickMs: number
}

/** A user's place as the line knows it. `seq` is the Redis-side arrival number (FIFO across instances). */
export type Place =
  | { status: 'WAITING'; seq: number; joinedAt: number; position: number; measuredRate: number | null; rate: number | null; created: boolean }
  | { status: 'ACTIVE'; seq: number; joinedAt: number; activeUntil: number; measuredRate: number | null; rate: number | null; created: boolean }
  | { status: 'SOLD_OUT' }
  | { status: 'EXPIRED' }

export interface StepResult {
  /** False when another instance already ran this tick's step. */
  ran: boolean
  admitted: number
  expired: number
  droppedOut: number
  waiting: number
  active: number
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
  /** Joins at the back, or returns the place the user already has. */
  join(input: { concertId: string; userId: string; now: number; activeTtlMs: number }): Promise<Place>
  /** Where a user with this `seq` stands; counts as a sign of life for the idle timeout. */
  poll(input: { concertId: string; userId: string; seq: number; now: number }): Promise<Place>
  /** Leaves the line or ends an ACTIVE slot (revoking its tokens). */
  leave(input: { concertId: string; userId: string; seq: number; now: number; activeTtlMs: number }): Promise<'LEFT' | 'ENDED' | 'NONE'>
  /** Ends the user's ACTIVE slot because of an event; the same event id twice changes nothing. */
  endActiveOnce(input: { concertId: string; userId: string; eventId: string; now: number; activeTtlMs: number }): Promise<'ENDED' | 'NONE' | 'DUPLICATE'>
  /** One admission step if nobody ran this tick yet: expire ACTIVE, drop idle waiters, admit. */
  step(input: { concertId: string; tick: number; now: number; defaults: LineDefaults }): Promise<StepResult>
  /** Closes or reopens the line; an older change than the last one applied is ignored. */
  setSoldOut(input: { concertId: string; soldOut: boolean; at: number }): Promise<boolean>
  /** Concerts with a line, for the admission loop. */
  concerts(): Promise<string[]>
  register(concertId: string): Promise<void>
}

export type ConcertStatus = { exists: boolean; soldOut: boolean } | { unknown: true }

/** Booking's view of a concert. Never throws: when booking does not answer, the status is unknown. */
export interface ConcertDirectory {
  status(concertId: string): Promise<ConcertStatus>
}

export interface TokenIssuer {
  issue(claims: { userId: string; concertId: string; status: 'WAITING' | 'ACTIVE'; seq: number; issuedAt: number; expiresAt: number }): Promise<string>
  verify(token: string, nowMs: number): Promise<
    | { ok: true; claims: { userId: string; concertId: string; status: 'WAITING' | 'ACTIVE'; seq: number } }
    | { ok: false; reason: 'invalid' | 'expired'; claims?: { userId: string; concertId: string; seq: number } }
  >
}

export interface QueueEvents {
  joined(concertId: string, outcome: 'new' | 'again' | 'sold_out' | 'unknown_concert'): void
  stepped(concertId: string, result: StepResult): void
  activeEnded(concertId: string, reason: 'left' | 'paid'): void
}
