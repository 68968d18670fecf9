import { verifyDraw, type DrawCheck } from './draw.js'

/**
 * Reads a concert's published draw through the public API, as any fan or auditor can
 * (`GET /api/queue/draws/:concertId` and its entries), and checks it. The ops tool's `draw:verify`
 * and the load runner's report use it.
 */

export interface PublishedDrawInfo {
  concertId: string
  status: 'PRE_QUEUE' | 'DRAWING' | 'DRAWN'
  algorithm: string
  opensAt: string
  preQueueOpensAt: string
  seedHash: string
  entries: number
  digest?: string
  seed?: string
  drawnAt?: string
  firstArrivalNumber?: number
}

const PAGE = 10_000

async function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  const body = (await res.json().catch(() => ({}))) as T & { code?: string; detail?: string }
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${body.code ?? ''} ${body.detail ?? ''}`.trim())
  return body
}

/** The draw's published record and, once drawn, its whole order (fetched in pages). */
export async function fetchPublishedDraw(baseUrl: string, concertId: string, opts: { timeoutMs?: number } = {}): Promise<{ info: PublishedDrawInfo; order: string[] | null }> {
  const base = `${baseUrl.replace(/\/$/, '')}/api/queue/draws/${encodeURIComponent(concertId)}`
  const timeoutMs = opts.timeoutMs ?? 10_000
  const info = await getJson<PublishedDrawInfo>(base, timeoutMs)
  if (info.status !== 'DRAWN') return { info, order: null }
  const order: string[] = []
  while (order.length < info.entries) {
    const page = await getJson<{ order: string[] }>(`${base}/entries?offset=${order.length}&limit=${PAGE}`, timeoutMs)
    if (page.order.length === 0) break
    order.push(...page.order)
  }
  return { info, order }
}

export type PublishedDrawCheck = DrawCheck & { info: PublishedDrawInfo; countMatches: boolean }

/** Recomputes the published order from the published seed and entries; null while the draw is not made. */
export async function checkPublishedDraw(baseUrl: string, concertId: string, opts: { timeoutMs?: number } = {}): Promise<PublishedDrawCheck | null> {
  const { info, order } = await fetchPublishedDraw(baseUrl, concertId, opts)
  if (order === null || info.seed === undefined || info.digest === undefined) return null
  const check = verifyDraw({ seedHash: info.seedHash, seed: info.seed, digest: info.digest, order })
  const countMatches = order.length === info.entries
  return { ...check, ok: check.ok && countMatches, info, countMatches }
}
