import type { LineInfo } from '@tickets/contracts/line-commands'
import type { LineSummary } from '@tickets/contracts/queue-line'
import { waitingView, type WaitingView } from '@tickets/contracts/queue-view'

/**
 * Most polls on opening day come from fans far back in line, and their answer is the same few
 * numbers for everyone: the gateway gives it from the summary the queue's last admission step left,
 * without a Redis call. Near the front, when the line does not move for reasons only the line knows
 * (every seat held, everyone let in, sold out), or when the summary is old, the line answers.
 */

/** Fans within this many seconds of admissions at the allowed rate ask the queue service itself. */
export const NEAR_SECONDS = 10
/** ...and never fewer places than this: the summary is up to a few steps old. */
export const MIN_NEAR_PLACES = 100

/**
 * Where the general fan with arrival number `seq` stands: the summary knows how many wait between
 * the first general arrival still waiting (`head`) and the last one (`tail`), not who left in
 * between, so departures are taken as spread evenly; the presale places are all ahead. Null when
 * the fan is not between them (new since the step, or admitted already).
 */
export function estimatedPosition(seq: number, line: Pick<LineSummary, 'head' | 'tail' | 'waiting' | 'presale'>): number | null {
  const general = line.waiting - line.presale
  if (line.head === null || general < 1 || seq < line.head || seq > line.tail) return null
  if (line.tail === line.head) return line.presale + 1
  const share = (seq - line.head) / (line.tail - line.head)
  return line.presale + Math.min(general, Math.max(1, 1 + Math.round(share * (general - 1))))
}

/**
 * The answer to a WAITING poll far back in line, or null when the line itself must answer it. A fan
 * beyond what the seats left can reach is told so from the summary, wherever the line stands.
 */
export function answerFarBack(seq: number, line: LineSummary, now: number): WaitingView | null {
  if (line.open || !line.settings) return null
  const position = estimatedPosition(seq, line)
  if (position === null) return null
  const allowed = line.rates.effectiveRate ?? 0
  const info: LineInfo = {
    ...line.rates,
    rate: null,
    reason: line.reason,
    seatsOnHold: null,
    nextReleaseAt: null,
    releaseForPosition: null,
    free: line.free,
    held: line.held,
    spreadSeconds: line.spreadSeconds,
  }
  const view = waitingView(position, seq, info, { ...line.settings, fallbackRate: allowed }, now)
  if (view.reason === 'OUT_OF_REACH') return view
  if (line.reason === 'ALL_SEATS_HELD') return null
  if (position <= Math.max(MIN_NEAR_PLACES, Math.ceil(allowed * NEAR_SECONDS))) return null
  return view
}
