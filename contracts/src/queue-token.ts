import { deriveKey } from './auth.js'
import { signHs256, timeClaimsProblem, verifyHs256 } from './hs256.js'

/**
 * The waiting-room token: the contract between the queue service (signs it) and the gateway
 * (checks ACTIVE tokens by signature alone, plus one Redis GET for revocation).
 */
export type QueueTokenStatus = 'WAITING' | 'ACTIVE'

export interface QueueTokenClaims {
  userId: string
  concertId: string
  status: QueueTokenStatus
  /** The holder's place in the line's Redis-side sequence; revocation is "every token up to seq". 0: in the pre-queue. */
  seq: number
  /** A place a presale code gave: ahead of the general line, so never answered from the line's summary. */
  presale?: boolean
  /** Seconds since the epoch. */
  issuedAt: number
  expiresAt: number
}

export type QueueTokenVerdict =
  | { ok: true; claims: QueueTokenClaims }
  /** `claims` is set for an expired token whose signature is good. */
  | { ok: false; reason: 'invalid' | 'expired'; claims?: QueueTokenClaims }

export const QUEUE_TOKEN_HEADER = 'x-queue-token'
export const QUEUE_TOKEN_ISSUER = 'tickets-queue'
const ID = /^[A-Za-z0-9_-]{1,64}$/

/** Its own key, derived from AUTH_JWT_SECRET: a user token can never pass as a queue token. */
export function queueTokenKey(secret: string): Uint8Array {
  return deriveKey(secret, 'queue-token')
}

/** Every key of one concert's line shares this Redis Cluster hash tag. */
export function queueKeyTag(concertId: string): string {
  return `{q:${concertId}}`
}

/** Holds the highest `seq` of this user's ended ACTIVE tokens for the concert (no prefix: the client adds it). */
export function queueRevocationKey(concertId: string, userId: string): string {
  return `${queueKeyTag(concertId)}:rev:${userId}`
}

/**
 * ZSET userId -> last time (ms) an ACTIVE user was seen. The gateway adds what it saw in batches;
 * the queue's admission step releases an ACTIVE user who holds no seat and was not seen for a while.
 */
export function queueActivityKey(concertId: string): string {
  return `${queueKeyTag(concertId)}:seen-active`
}

export function isQueueId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value)
}

/** HS256 is deterministic: the same claims always give the same token, so a re-join returns it again. */
export async function signQueueToken(key: Uint8Array, c: QueueTokenClaims): Promise<string> {
  return signHs256(key, {
    cid: c.concertId,
    st: c.status,
    seq: c.seq,
    iss: QUEUE_TOKEN_ISSUER,
    sub: c.userId,
    jti: `${c.seq.toString(36)}${c.status === 'ACTIVE' ? 'a' : 'w'}`,
    iat: c.issuedAt,
    exp: c.expiresAt,
    ...(c.presale ? { ps: 1 } : {}),
  })
}

function claimsOf(payload: Record<string, unknown>): QueueTokenClaims | undefined {
  const { sub, cid, st, seq, iat, exp, ps } = payload
  if (!isQueueId(sub) || !isQueueId(cid)) return undefined
  if (st !== 'WAITING' && st !== 'ACTIVE') return undefined
  // seq 0 is a pre-queue token: WAITING for the place the draw will give.
  if (!Number.isSafeInteger(seq) || (seq as number) < (st === 'WAITING' ? 0 : 1)) return undefined
  if (typeof iat !== 'number' || typeof exp !== 'number') return undefined
  const claims: QueueTokenClaims = { userId: sub, concertId: cid, status: st, seq: seq as number, issuedAt: iat, expiresAt: exp }
  if (ps === 1) claims.presale = true
  return claims
}

/** Only HS256 with this key and issuer; `alg: none`, other algorithms and tampered tokens are `invalid`. */
export async function verifyQueueToken(key: Uint8Array, token: string, opts: { nowMs?: number } = {}): Promise<QueueTokenVerdict> {
  const payload = verifyHs256(key, token)
  if (!payload || payload.iss !== QUEUE_TOKEN_ISSUER || typeof payload.jti !== 'string') return { ok: false, reason: 'invalid' }
  const claims = claimsOf(payload)
  if (!claims) return { ok: false, reason: 'invalid' }
  // The signature is checked before the time claims, so an expired token's claims are authentic.
  const problem = timeClaimsProblem(payload, Math.floor((opts.nowMs ?? Date.now()) / 1000))
  if (problem === 'expired') return { ok: false, reason: 'expired', claims }
  return problem ? { ok: false, reason: 'invalid' } : { ok: true, claims }
}
