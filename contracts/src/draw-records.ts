import { byId, drawOfSorted } from './draw.js'

/**
 * A made draw as the line's store keeps it (`lineKeys`: drawOrder and drawPlaces), two strings of
 * fixed-width records, so the draw is written a chunk per call and read by offset: the entry ids in
 * drawn order, and each entry's place sorted by entry id, where DRAW_PLACE finds one by halving.
 */
export const ENTRY_ID_BYTES = 64
const PLACE_DIGITS = 10
/** An entry id, then its place (1-based) in decimal, padded with zeros. */
export const PLACE_RECORD_BYTES = ENTRY_ID_BYTES + PLACE_DIGITS

export interface PackedDraw {
  digest: string
  /** Distinct entries drawn. */
  entries: number
  /** For each place, first drawn first: the index, in the list given, of the entry drawn there. */
  fans: Uint32Array
  /** The entry ids in drawn order, ENTRY_ID_BYTES of hex each. */
  ids: Uint8Array
  /** A place record per entry, in ascending entry id order. */
  places: Uint8Array
}

/** contracts' drawOrder of `entryIds` (an id listed twice counts once), packed as the store keeps it. */
export function packedDraw(seed: string, entryIds: readonly string[]): PackedDraw {
  const ascending = byId(entryIds)
  const distinct: number[] = []
  for (let k = 0; k < ascending.length; k++) {
    const i = ascending[k]!
    if (k === 0 || entryIds[i] !== entryIds[ascending[k - 1]!]) distinct.push(i)
  }
  const sorted = distinct.map((i) => entryIds[i]!)
  const { digest, order } = drawOfSorted(seed, sorted)
  const n = sorted.length
  const fans = new Uint32Array(n)
  const placeOf = new Uint32Array(n)
  const ids = Buffer.alloc(n * ENTRY_ID_BYTES)
  for (let p = 0; p < n; p++) {
    const s = order[p]!
    fans[p] = distinct[s]!
    placeOf[s] = p + 1
    ids.write(sorted[s]!, p * ENTRY_ID_BYTES, 'latin1')
  }
  const places = Buffer.alloc(n * PLACE_RECORD_BYTES)
  for (let s = 0; s < n; s++) places.write(sorted[s]! + String(placeOf[s]).padStart(PLACE_DIGITS, '0'), s * PLACE_RECORD_BYTES, 'latin1')
  return { digest, entries: n, fans, ids, places }
}

/** The entry ids of a stretch of the published order, as read from the store. */
export function idsOf(stretch: string): string[] {
  const ids: string[] = []
  for (let at = 0; at + ENTRY_ID_BYTES <= stretch.length; at += ENTRY_ID_BYTES) ids.push(stretch.slice(at, at + ENTRY_ID_BYTES))
  return ids
}
