import { hash, randomBytes, randomUUID } from 'node:crypto'

/**
 * The opening's draw, as anyone can recompute it (`docs/api.md`, the draw; the reasoning is in
 * docs/decisions/verifiable-draw.md). Every value is lower-case hex of SHA-256:
 * - a fan's entry: `entryId = SHA-256(userId ":" salt)`, the salt given to the fan at their join;
 * - the list: `digest = SHA-256(the entry ids sorted ascending, joined by "\n")`;
 * - the order: entries by ascending `SHA-256(seed ":" digest ":" entryId)`;
 * - the commitment published before the opening: `seedHash = SHA-256(seed)`.
 * The queue service, the ops tool that verifies a draw and the load runner all use these functions.
 */

export const DRAW_ALGORITHM = 'sha256-v1'
const HEX64 = /^[0-9a-f]{64}$/

// One-shot hashing: about a third of the cost of a Hash object per short input.
const sha256 = (text: string) => hash('sha256', text, 'hex')

export function isEntryId(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value)
}

/** A fresh secret seed and the hash that commits to it. */
export function newSeed(): { seed: string; seedHash: string } {
  const seed = randomBytes(32).toString('hex')
  return { seed, seedHash: seedHashOf(seed) }
}

/**
 * A fresh salt for a fan's entry: 122 random bits, so nobody tells a user's entry without it. Every
 * join makes one; randomUUID draws from a cached pool of entropy.
 */
export function newEntrySalt(): string {
  return randomUUID().replaceAll('-', '')
}

export function seedHashOf(seed: string): string {
  return sha256(seed)
}

export function entryIdOf(userId: string, salt: string): string {
  return sha256(`${userId}:${salt}`)
}

/** The digest of a list of entries, in any order. */
export function entriesDigest(entryIds: readonly string[]): string {
  return digestOfSorted(Array.from(byId(entryIds), (i) => entryIds[i]!))
}

function digestOfSorted(sortedIds: readonly string[]): string {
  return sha256(sortedIds.join('\n'))
}

export function drawScore(seed: string, digest: string, entryId: string): string {
  return sha256(`${seed}:${digest}:${entryId}`)
}

/** The entries in drawn order (first drawn first), with the list's digest. */
export function drawOrder(seed: string, entryIds: readonly string[]): { digest: string; order: string[] } {
  const sorted = Array.from(byId(entryIds), (i) => entryIds[i]!)
  const { digest, order } = drawOfSorted(seed, sorted)
  return { digest, order: Array.from(order, (i) => sorted[i]!) }
}

/** The indexes of `entryIds` in ascending id order (as strings sort, whatever they hold). */
export function byId(entryIds: readonly string[]): Uint32Array {
  if (!entryIds.every((e) => isEntryId(e))) return Uint32Array.from(entryIds.keys()).sort((a, b) => compare(entryIds[a]!, entryIds[b]!))
  return sortByPrefix(
    entryIds.length,
    (i) => hexPrefix(entryIds[i]!),
    (a, b) => compare(entryIds[a]!, entryIds[b]!),
  )
}

/**
 * drawOrder for entry ids already in ascending order: the digest, and the indexes of `sortedIds` in
 * drawn order (ascending score; equal scores, which only a SHA-256 collision makes, by entry id).
 */
export function drawOfSorted(seed: string, sortedIds: readonly string[]): { digest: string; order: Uint32Array } {
  const digest = digestOfSorted(sortedIds)
  const prefixes = new Uint32Array(sortedIds.length)
  for (let i = 0; i < sortedIds.length; i++) prefixes[i] = hexPrefix(drawScore(seed, digest, sortedIds[i]!))
  const keyOf = (i: number) => drawScore(seed, digest, sortedIds[i]!) + sortedIds[i]!
  return {
    digest,
    order: sortByPrefix(
      sortedIds.length,
      (i) => prefixes[i]!,
      (a, b) => compare(keyOf(a), keyOf(b)),
    ),
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
// The first 32 bits of a hex value: hex strings of one length sort as these numbers do, ties aside.
const hexPrefix = (hex: string) => parseInt(hex.slice(0, 8), 16)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * The indexes 0..n-1 sorted by a 32-bit prefix of their keys, then by `tie` within equal prefixes
 * (about one pair in 100,000 random keys). Each prefix and index is packed into one 64-bit integer,
 * so the typed array's numeric sort does the work: several times faster than sorting hex strings.
 */
function sortByPrefix(n: number, prefix: (i: number) => number, tie: (a: number, b: number) => number): Uint32Array {
  const packed = new BigUint64Array(n)
  const words = new Uint32Array(packed.buffer)
  const [low, high] = LITTLE_ENDIAN ? [0, 1] : [1, 0]
  for (let i = 0; i < n; i++) {
    words[2 * i + high] = prefix(i)
    words[2 * i + low] = i
  }
  packed.sort()
  const out = new Uint32Array(n)
  for (let i = 0; i < n; i++) out[i] = words[2 * i + low]!
  for (let i = 0, j = 1; i < n; i = j++) {
    while (j < n && words[2 * j + high] === words[2 * i + high]) j++
    if (j - i > 1) out.subarray(i, j).sort(tie)
  }
  return out
}

/** What a draw publishes once drawn. */
export interface PublishedDraw {
  seedHash: string
  seed: string
  digest: string
  /** Entry ids in drawn order, first drawn first. */
  order: readonly string[]
}

export type DrawProblem = 'SEED_DOES_NOT_MATCH_ITS_HASH' | 'ENTRY_NOT_AN_ID' | 'ENTRY_TWICE' | 'DIGEST_DOES_NOT_MATCH_ENTRIES' | 'ORDER_DOES_NOT_MATCH'

export interface DrawCheck {
  ok: boolean
  problems: DrawProblem[]
  entries: number
  /** Places (1-based) where the published order first differs from the recomputed one; null when none. */
  firstMismatch: number | null
}

/** Recomputes a published draw from its seed and entries, and says whether everything published agrees. */
export function verifyDraw(draw: PublishedDraw): DrawCheck {
  const problems: DrawProblem[] = []
  if (seedHashOf(draw.seed) !== draw.seedHash) problems.push('SEED_DOES_NOT_MATCH_ITS_HASH')
  if (!draw.order.every(isEntryId)) problems.push('ENTRY_NOT_AN_ID')
  if (new Set(draw.order).size !== draw.order.length) problems.push('ENTRY_TWICE')
  const { digest, order } = drawOrder(draw.seed, draw.order)
  if (digest !== draw.digest) problems.push('DIGEST_DOES_NOT_MATCH_ENTRIES')
  const mismatch = order.findIndex((entryId, i) => draw.order[i] !== entryId)
  if (mismatch >= 0) problems.push('ORDER_DOES_NOT_MATCH')
  return { ok: problems.length === 0, problems, entries: draw.order.length, firstMismatch: mismatch >= 0 ? mismatch + 1 : null }
}
