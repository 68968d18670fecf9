import { kendallTau } from './kendall-tau.js'
import { seqOf } from './queue-token-claims.js'
import { percentile } from './percentile.js'

/** Why a WAITING fan's line is not moving, as the poll answer says (absent from older servers). */
export const WAIT_REASONS = ['ALL_SEATS_HELD', 'PAUSED', 'NOT_OPEN_YET'] as const

/** One fan who joined the line: what fairness and the poll budget are measured from. */
export interface FanInLine {
  /** The waiting token's `seq`; null when the token carried none. */
  readonly seq: number | null
  readonly joinedAt: number
  polls: number
  /** `activeUntil` (epoch ms) of the first ACTIVE answer: fans admitted in one step share it. */
  admission: number | null
  admittedAt: number | null
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
}

export const TAU_DEFINITION = "Kendall's tau over the pairs admitted in different steps: (concordant - discordant) / (concordant + discordant)"

export class LineLedger {
  private readonly fans: FanInLine[] = []
  private readonly reasonCounts = new Map<string, number>()

  joined(token: unknown, at = Date.now()): FanInLine {
    const fan: FanInLine = { seq: seqOf(token), joinedAt: at, polls: 0, admission: null, admittedAt: null }
    this.fans.push(fan)
    return fan
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

  summary(): LineSummary {
    const polls = this.fans.map((f) => f.polls).sort((a, b) => a - b)
    const admitted = this.fans.filter((f) => f.admittedAt !== null)
    const waits = admitted.map((f) => (f.admittedAt! - f.joinedAt) / 1000).sort((a, b) => a - b)
    const ranked = admitted.flatMap((f) => (f.seq !== null && f.admission !== null ? [{ join: f.seq, admission: f.admission }] : []))
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
    }
  }
}
