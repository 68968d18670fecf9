import { createHmac, hash, timingSafeEqual } from 'node:crypto'
import { deriveKey } from './auth.js'
import { hasLeadingZeroBits, MAX_CHALLENGE_DIFFICULTY, proofText } from './proof-of-work.js'

/**
 * The join challenge: a hashcash-style proof of work that operators can require per concert.
 * The gateway issues a nonce bound to the user, the concert and a difficulty, signed with its own
 * key and valid for CHALLENGE_TTL_SECONDS (nothing is stored); the client finds a counter such that
 * SHA-256 of `nonce:counter` starts with `difficulty` zero bits and joins again with
 * `X-Queue-Proof: nonce:counter`. Checking costs the gateway one SHA-256 and one HMAC.
 */
export const QUEUE_PROOF_HEADER = 'x-queue-proof'
export const CHALLENGE_ALGORITHM = 'sha256-leading-zero-bits'
export const CHALLENGE_TTL_SECONDS = 120
export { DEFAULT_CHALLENGE_DIFFICULTY, MAX_CHALLENGE_DIFFICULTY, MIN_CHALLENGE_DIFFICULTY } from './proof-of-work.js'

/** What a refused join tells the client: the problem body's `challenge` member. */
export interface Challenge {
  algorithm: typeof CHALLENGE_ALGORITHM
  nonce: string
  difficulty: number
  /** Seconds since the epoch; a proof over this nonce is refused from then on. */
  expiresAt: number
  header: 'X-Queue-Proof'
}

export interface ChallengeSubject {
  concertId: string
  userId: string
}

export type ProofVerdict = { ok: true } | { ok: false; reason: 'malformed' | 'foreign' | 'expired' | 'too-easy' | 'short-work' }

/** Its own key, derived from AUTH_JWT_SECRET: no other token or signature can pass as a nonce. */
export function challengeKey(secret: string): Uint8Array {
  return deriveKey(secret, 'queue-challenge')
}

// difficulty.expiresAt.mac, then `:counter` in a proof.
const PROOF = /^(([1-9]\d?)\.(\d{10})\.([A-Za-z0-9_-]{22})):(\d{1,16})$/

function mac(key: Uint8Array, who: ChallengeSubject, difficulty: number, expiresAt: number): string {
  // The user id comes last: it is the one field that may hold any character, so nothing can be moved across fields.
  return createHmac('sha256', key).update(`${who.concertId}\n${difficulty}\n${expiresAt}\n${who.userId}`).digest('base64url').slice(0, 22)
}

export function issueChallenge(key: Uint8Array, who: ChallengeSubject, difficulty: number, nowMs = Date.now()): Challenge {
  const expiresAt = Math.floor(nowMs / 1000) + CHALLENGE_TTL_SECONDS
  return { algorithm: CHALLENGE_ALGORITHM, nonce: `${difficulty}.${expiresAt}.${mac(key, who, difficulty, expiresAt)}`, difficulty, expiresAt, header: 'X-Queue-Proof' }
}

/** Leading zero bits of a digest, counted up to `atLeast` (enough to decide). */
export { hasLeadingZeroBits }

function sha256(text: string): Uint8Array {
  return hash('sha256', text, 'buffer')
}

/**
 * Judges an X-Queue-Proof for this user and concert at the difficulty in force. A nonce issued at a
 * higher difficulty than now still counts; one issued at a lower one (the operator raised it) does not.
 * A proof may be sent again by the same user for the same concert until its nonce expires: the line
 * holds one place per user, so a replay gains nothing, and another user's proof fails the signature.
 */
export function checkProof(key: Uint8Array, proof: string, who: ChallengeSubject, required: number, nowMs = Date.now()): ProofVerdict {
  const parts = PROOF.exec(proof)
  if (!parts) return { ok: false, reason: 'malformed' }
  const difficulty = Number(parts[2])
  const expiresAt = Number(parts[3])
  if (difficulty > MAX_CHALLENGE_DIFFICULTY) return { ok: false, reason: 'malformed' }
  if (difficulty < required) return { ok: false, reason: 'too-easy' }
  // The work first: one SHA-256 turns away a made-up proof before the signature is computed.
  if (!hasLeadingZeroBits(sha256(proof), difficulty)) return { ok: false, reason: 'short-work' }
  const expected = Buffer.from(mac(key, who, difficulty, expiresAt))
  const given = Buffer.from(parts[4]!)
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: 'foreign' }
  if (expiresAt <= Math.floor(nowMs / 1000)) return { ok: false, reason: 'expired' }
  return { ok: true }
}

/** Tries the counters from `from` up to (not including) `to`; the X-Queue-Proof value of the first that meets the difficulty. */
export function searchProof(challenge: Pick<Challenge, 'nonce' | 'difficulty'>, from: number, to: number): string | undefined {
  for (let counter = from; counter < to; counter++) {
    const proof = proofText(challenge.nonce, counter)
    if (hasLeadingZeroBits(sha256(proof), challenge.difficulty)) return proof
  }
  return undefined
}

/** Finds the first counter that meets the nonce's difficulty, in one go; returns the X-Queue-Proof value. */
export function solveChallenge(challenge: Pick<Challenge, 'nonce' | 'difficulty'>): string {
  return searchProof(challenge, 0, Number.MAX_SAFE_INTEGER)!
}
