/**
 * When a fan asks the line again: the one rule the fan's page and the load runner's fans both
 * follow, so the runner's polls per fan are what real pages make. The gateway's `Retry-After` is
 * obeyed whatever the answer (a 429 or a 503 carries one too); without one, a second after an
 * answer and two after a failure.
 */
export function nextPollSeconds(reply: { ok: boolean; retryAfter: number | null }): number {
  if (reply.retryAfter !== null && Number.isFinite(reply.retryAfter) && reply.retryAfter >= 0) return reply.retryAfter
  return reply.ok ? 1 : 2
}

/** `Retry-After` as a number of seconds; null when absent or not a number (an HTTP date is not sent here). */
export function parseRetryAfter(header: string | null | undefined): number | null {
  if (header === null || header === undefined || header.trim() === '') return null
  const n = Number(header)
  return Number.isFinite(n) && n >= 0 ? n : null
}

/** The statuses after which a fan stops polling. */
export function pollingEnds(status: string | undefined): boolean {
  return status === 'ACTIVE' || status === 'SOLD_OUT' || status === 'EXPIRED'
}
