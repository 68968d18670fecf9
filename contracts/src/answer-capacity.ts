/**
 * How many requests a second the gateways measure they can answer, as they report it to the queue
 * service: one field per gateway process in one hash, `capacity:atMs`. The queue service turns the
 * sum into the rate at which waiting fans may be brought back (see `pollSpreadSeconds`).
 */

/** HASH: gateway process -> `requestsPerSecond:reportedAtMs`. */
export const GATEWAY_CAPACITY_KEY = 'gateway:capacity'

/** A report older than this is a gateway that stopped (or cannot reach Redis): it no longer counts. */
export const CAPACITY_REPORT_MAX_AGE_MS = 15_000

export function encodeCapacity(requestsPerSecond: number, at: number): string {
  return `${Math.round(requestsPerSecond)}:${at}`
}

/** The sum of the current reports (requests a second), or null when no gateway reported lately. */
export function totalCapacity(reports: Record<string, string>, now: number, maxAgeMs = CAPACITY_REPORT_MAX_AGE_MS): number | null {
  let total = 0
  let current = 0
  for (const value of Object.values(reports)) {
    const [capacity, at] = value.split(':').map(Number)
    if (!Number.isFinite(capacity) || !Number.isFinite(at) || capacity! <= 0 || now - at! > maxAgeMs) continue
    total += capacity!
    current++
  }
  return current > 0 ? total : null
}

/** Report fields no gateway refreshed for a long time (restarted processes), to delete. */
export function staleReports(reports: Record<string, string>, now: number, maxAgeMs = CAPACITY_REPORT_MAX_AGE_MS * 20): string[] {
  return Object.entries(reports)
    .filter(([, value]) => !(now - Number(value.split(':')[1]) <= maxAgeMs))
    .map(([field]) => field)
}
