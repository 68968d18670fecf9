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
  return sha256([...entryIds].sort().join('\n'))
}

export function drawScore(seed: string, digest: string, entryId: string): string {
  return sha256(`${seed}:${digest}:${entryId}`)
}

/** The entries in drawn order (first drawn first), with the list's digest. */
export function drawOrder(seed: string, entryIds: readonly string[]): { digest: string; order: string[] } {
  const digest = entriesDigest(entryIds)
  const keyed = entryIds.map((entryId) => drawScore(seed, digest, entryId) + entryId)
  return { digest, order: byScore(keyed) }
}

// Each key is score + entryId (64 + 64 hex): sorting the strings orders by score, entry ids break
// a tie (which only a SHA-256 collision could make).
function byScore(keyed: string[]): string[] {
  return keyed.sort().map((k) => k.slice(64))
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
