import type { PublishedOrder } from './published-draw.js'
import { kendallTau, type RankedPair } from './kendall-tau.js'
import { seqOf } from './queue-token-claims.js'
import { percentile } from './percentile.js'

/** Why a WAITING fan's line is not moving, as the poll answer says (absent from older servers). */
export const WAIT_REASONS = ['ALL_SEATS_HELD', 'PAUSED', 'NOT_OPEN_YET'] as const

/** One fan who joined the line: what fairness and the poll budget are measured from. */
export interface FanInLine {
  /** The waiting token's `seq`; null when the token carried none (a pre-queue token, until the draw placed the fan). */
  seq: number | null
  /** The fan's entry in the opening's draw, when their join answered PRE_QUEUE. */
  readonly entryId: string | null
  readonly joinedAt: number
  polls: number
  /** `activeUntil` (epoch ms) of the first ACTIVE answer: fans admitted in one step share it. */
  admission: number | null
  admittedAt: number | null
  /** When a poll first answered SOLD_OUT (epoch ms). */
  toldSoldOutAt: number | null
}

export interface LineSummary {
  fansJoined: number
  pollsPerFan: { mean: number; p95: number; max: number }
  /** Poll answers that carried each `reason`. */
  reasons: Record<string, number>
  admitted: number
  admissionOrder: {
    /** Kendall's tau between join order and admission order; null when no pair can be compared. */
    tau: number | null
    definition: string
    /** Admitted fans with both a `seq` and an `activeUntil`. */
    fans: number
    /** Pairs of them admitted in different steps. */
    pairs: number
  }
  /** From the join answer to the first ACTIVE answer, over admitted fans. */
  waitSeconds: { p95: number; max: number }
  /** The fans of the opening's draw, apart from the general line (`admissionOrder`); null without a pre-queue. */
  draw: DrawSummary | null
  sellOut: SellOutSummary
}

/** How soon the fans still in line heard that the last seat was sold. */
export interface SellOutSummary {
  /** The last sale the runner saw (epoch ms); null when none. */
  lastSaleAt: number | null
  /** Fans in line a poll told SOLD_OUT. */
  told: number
  /** From the last sale to each fan's SOLD_OUT answer; null when no fan was told. */
  heardSeconds: { p95: number; max: number } | null
}

export interface DrawSummary {
  /** Fans whose join answered PRE_QUEUE, and of them those the draw placed (a token with an arrival number). */
  fans: number
  placed: number
  /** The published order recomputed from its seed and entries matches (contracts' verifyDraw); null when the draw was not read. */
  recomputed: boolean | null
  problems: string[]
  /** Placed fans whose arrival number is the published first arrival number plus their place in the published order. */
  placesChecked: number
  placesMatching: number
  /** Admission order against the drawn order, over the drawn fans admitted (as `admissionOrder`). */
  admissionOrder: { tau: number | null; fans: number; pairs: number }
}

export const TAU_DEFINITION = "Kendall's tau over the pairs admitted in different steps: (concordant - discordant) / (concordant + discordant)"

export class LineLedger {
  private readonly fans: FanInLine[] = []
  private readonly reasonCounts = new Map<string, number>()
  private published: PublishedOrder | null = null
  private lastSaleAt: number | null = null

  /** `entryId`: the fan's entry in the draw, when the join answered PRE_QUEUE. */
  joined(token: unknown, at = Date.now(), entryId: string | null = null): FanInLine {
    const fan: FanInLine = { seq: seqOf(token), entryId, joinedAt: at, polls: 0, admission: null, admittedAt: null, toldSoldOutAt: null }
    this.fans.push(fan)
    return fan
  }

  /** A token a poll answered with: a pre-queued fan's first one with an arrival number is their drawn place. */
  placed(fan: FanInLine, token: unknown) {
    if (fan.seq === null) fan.seq = seqOf(token)
  }

  /** The opening's draw as the public routes published it, read after the run. */
  publishedDraw(published: PublishedOrder | null) {
    this.published = published
  }

  polled(fan: FanInLine) {
    fan.polls++
  }

  /** Counts the answer's `reason`, if it carries one. */
  answered(body: unknown) {
    const reason = body && typeof body === 'object' ? (body as { reason?: unknown }).reason : undefined
    if (typeof reason === 'string') this.reasonCounts.set(reason, (this.reasonCounts.get(reason) ?? 0) + 1)
  }

  /** The first ACTIVE answer a fan saw; `activeUntil` as the answer gave it (ISO time, or absent). */
  admitted(fan: FanInLine, activeUntil: unknown, at = Date.now()) {
    if (fan.admittedAt !== null) return
    fan.admittedAt = at
    const until = typeof activeUntil === 'string' ? Date.parse(activeUntil) : Number.NaN
    fan.admission = Number.isFinite(until) ? until : null
  }

  /** A seat paid for. */
  sold(at = Date.now()) {
    this.lastSaleAt = Math.max(this.lastSaleAt ?? at, at)
  }

  /** A poll answered SOLD_OUT: the fan stops waiting. */
  toldSoldOut(fan: FanInLine, at = Date.now()) {
    fan.toldSoldOutAt ??= at
  }

  summary(): LineSummary {
    const polls = this.fans.map((f) => f.polls).sort((a, b) => a - b)
    const admitted = this.fans.filter((f) => f.admittedAt !== null)
    const waits = admitted.map((f) => (f.admittedAt! - f.joinedAt) / 1000).sort((a, b) => a - b)
    const ranked = rankedOf(admitted.filter((f) => f.entryId === null))
    const tau = kendallTau(ranked)
    const reasons: Record<string, number> = Object.fromEntries(WAIT_REASONS.map((r) => [r, 0]))
    for (const [reason, count] of this.reasonCounts) reasons[reason] = count
    return {
      fansJoined: this.fans.length,
      pollsPerFan: { mean: polls.length ? polls.reduce((s, n) => s + n, 0) / polls.length : 0, p95: percentile(polls, 95), max: polls.at(-1) ?? 0 },
      reasons,
      admitted: admitted.length,
      admissionOrder: { tau: tau.tau, definition: TAU_DEFINITION, fans: ranked.length, pairs: tau.concordant + tau.discordant },
      waitSeconds: { p95: percentile(waits, 95), max: waits.at(-1) ?? 0 },
      draw: this.drawSummary(),
      sellOut: this.sellOutSummary(),
    }
  }

  private sellOutSummary(): SellOutSummary {
    const lastSale = this.lastSaleAt
    const told = this.fans.flatMap((f) => (f.toldSoldOutAt === null ? [] : [f.toldSoldOutAt]))
    // A fan told before the last sale the runner saw (its payment's answer still on the way) heard it at once.
    const heard = lastSale === null ? [] : told.map((at) => Math.max(0, at - lastSale) / 1000).sort((a, b) => a - b)
    return { lastSaleAt: lastSale, told: told.length, heardSeconds: heard.length ? { p95: percentile(heard, 95), max: heard.at(-1)! } : null }
  }

  private drawSummary(): DrawSummary | null {
    const drawn = this.fans.filter((f) => f.entryId !== null)
    const published = this.published
    if (drawn.length === 0 && published === null) return null
    const placed = drawn.filter((f) => f.seq !== null)
    // Place k (0-based) of the published order is arrival number first + k; an entry not in it matches nothing.
    const first = published?.firstArrivalNumber ?? null
    const checked = first === null ? [] : placed
    const placeOf = new Map((published?.order ?? []).map((entryId, i) => [entryId, i]))
    const placesMatching = checked.filter((f) => f.seq === first! + (placeOf.get(f.entryId!) ?? Number.NaN)).length
    const ranked = rankedOf(placed.filter((f) => f.admittedAt !== null))
    const tau = kendallTau(ranked)
    return {
      fans: drawn.length,
      placed: placed.length,
      recomputed: published?.recomputed ?? null,
      problems: published?.problems ?? [],
      placesChecked: checked.length,
      placesMatching,
      admissionOrder: { tau: tau.tau, fans: ranked.length, pairs: tau.concordant + tau.discordant },
    }
  }
}

/** Admitted fans with an arrival number and an admission step (their activeUntil). */
function rankedOf(admitted: readonly FanInLine[]): RankedPair[] {
  return admitted.flatMap((f) => (f.seq !== null && f.admission !== null ? [{ join: f.seq, admission: f.admission }] : []))
}
