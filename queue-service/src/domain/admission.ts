import type { WaitReason } from '@tickets/contracts/queue-line'
import type { EmergencyMode } from '@tickets/contracts/line-controls'

/** Why a waiting fan is not moving forward, when the line knows (the queue's contract with the gateway). */
export type { WaitReason }

/** What limited an admission step: the smallest of the bounds, or the reason nobody was admitted. */
export type AdmissionLimit = 'rate' | 'cap' | 'inventory' | 'line' | 'batch' | 'paused' | 'not-open' | 'drawing' | 'sold-out' | 'let-all'

/** What the line can still sell, as the waiting room knows it from booking's events. */
export interface InventoryView {
  /** Seats neither sold nor held. */
  free: number
  onHold: number
  /** The earliest deadline among the holds (ms), null without holds. */
  nextReleaseAt: number | null
  /** The concert's first bookingOpensAt (ms). */
  opensAt: number | null
}

export interface AdmissionInput {
  now: number
  tickMs: number
  waiting: number
  active: number
  /** ACTIVE fans who hold at least one seat. */
  activeHolding: number
  /** Admissions per second the operator (or the default) allows: a ceiling. */
  ceilingRate: number
  /** 0..1 from the back-off controller. */
  healthFactor: number
  cap: number
  /** The fraction of an admission the previous steps' rate left over. */
  carry: number
  paused: boolean
  mode: EmergencyMode | null
  soldOut: boolean
  /** The opening's draw is being applied: the drawn fans are not all in line yet. */
  drawing: boolean
  /** Null until the inventory is known: then only rate and cap apply. */
  inventory: InventoryView | null
  /** How many non-holding ACTIVE fans each free seat may have. */
  overbook: number
  batchLimit: number
}

export interface AdmissionDecision {
  admit: number
  carry: number
  effectiveRate: number
  limitedBy: AdmissionLimit
  reason: WaitReason | null
}

/**
 * One admission step's decision, pure. Admits no more than the rate (with its fractional carry),
 * the room under the ACTIVE cap, the line, the batch bound, and the fans who could still buy: the
 * free seats times `overbook`, less the ACTIVE fans who hold nothing yet.
 */
export function decideAdmission(input: AdmissionInput): AdmissionDecision {
  const effectiveRate = Math.max(0, input.ceilingRate * Math.min(1, Math.max(0, input.healthFactor)))
  const idle = (limitedBy: AdmissionLimit, reason: WaitReason | null = null): AdmissionDecision => ({ admit: 0, carry: input.carry, effectiveRate, limitedBy, reason })
  if (input.soldOut) return idle('sold-out')
  if (input.paused || input.mode === 'queue-all') return idle('paused', 'PAUSED')
  const inv = input.inventory
  if (inv?.opensAt != null && input.now < inv.opensAt) return idle('not-open', 'NOT_OPEN_YET')
  if (input.drawing) return idle('drawing', 'NOT_OPEN_YET')
  if (input.mode === 'let-all') return { ...idle('let-all'), admit: Math.min(input.waiting, input.batchLimit) }
  if (inv && inv.free === 0 && inv.onHold > 0) return idle('inventory', 'ALL_SEATS_HELD')
  if (input.waiting <= 0) return idle('line')

  const allowance = (effectiveRate * input.tickMs) / 1000 + input.carry
  const whole = Math.floor(allowance)
  const bounds: [AdmissionLimit, number][] = [
    ['rate', whole],
    ['cap', input.cap - input.active],
    ['line', input.waiting],
    ['batch', input.batchLimit],
  ]
  if (inv) bounds.push(['inventory', Math.floor(inv.free * input.overbook) - (input.active - input.activeHolding)])
  let [limitedBy, admit] = bounds[0]!
  for (const [name, bound] of bounds) {
    if (bound < admit) [limitedBy, admit] = [name, bound]
  }
  return { admit: Math.max(0, admit), carry: allowance - whole, effectiveRate, limitedBy, reason: null }
}
