import { untraced } from '@tickets/shared/untraced'

/**
 * Concert titles for the console's cards, from booking's catalogue (`GET /api/concerts`, which
 * booking caches itself), asked at most once per `maxAgeMs`. Booking not answering keeps the last
 * titles known; a concert not on sale shows by its id.
 */
export function createConcertTitles(opts: { bookingUrls: string[]; timeoutMs: number; maxAgeMs: number }) {
  let known: { at: number; titles: Record<string, string> } = { at: 0, titles: {} }

  async function ask(url: string): Promise<Record<string, string> | undefined> {
    try {
      const res = await untraced(() => fetch(`${url}/api/concerts`, { signal: AbortSignal.timeout(opts.timeoutMs) }))
      if (!res.ok) return undefined
      const body = (await res.json()) as { concerts?: { concertId: string; title: string }[] }
      return Object.fromEntries((body.concerts ?? []).map((c) => [c.concertId, c.title]))
    } catch {
      return undefined
    }
  }

  return async function titles(): Promise<Record<string, string>> {
    if (Date.now() - known.at < opts.maxAgeMs) return known.titles
    for (const url of opts.bookingUrls) {
      const found = await ask(url)
      if (found) {
        known = { at: Date.now(), titles: found }
        return found
      }
    }
    known = { at: Date.now(), titles: known.titles }
    return known.titles
  }
}
