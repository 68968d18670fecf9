import type { LineInfo } from '../src/line-commands.js'

export const NOW = Date.UTC(2026, 11, 7, 20)

/** What a poll reads of a line moving at 50 a second with 1,000 free seats, changed by `over`. */
export const aLine = (over: Partial<LineInfo> = {}): LineInfo => ({
  measuredRate: 50,
  deviation: 5,
  effectiveRate: 50,
  rate: null,
  reason: null,
  seatsOnHold: null,
  nextReleaseAt: null,
  releaseForPosition: null,
  free: 1_000,
  held: 0,
  spreadSeconds: null,
  ...over,
})
