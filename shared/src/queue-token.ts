import { errors, jwtVerify, SignJWT } from 'jose'
import { webcrypto } from 'node:crypto'
import { deriveKey } from './auth.js'

/**
 * The waiting-room token: the contract between the queue service (signs it) and the gateway
 * (checks ACTIVE tokens by signature alone, plus one Redis GET for revocation).
 */
export type QueueTokenStatus = 'WAITING' | 'ACTIVE'

export interface QueueTokenClaims {
  userId: string
  concertId: string
  status: QueueTokenStatus
  /** The holder's place in the line's Redis-side sequence; revocation is "every token up to seq". */
  seq: number
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
const COMPACT = /^[A-Za-z0-9_-]{1,512}\.[A-Za-z0-9_-]{1,1024}\.[A-Za-z0-9_-]{1,128}$/

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

export function isQueueId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value)
}

// jose imports a raw Uint8Array key through WebCrypto on every call; importing it once per key makes
// signing and verifying several times cheaper on the join and gate hot paths.
const imported = new WeakMap<Uint8Array, Promise<webcrypto.CryptoKey>>()
function hmacKey(key: Uint8Array): Promise<webcrypto.CryptoKey> {
  let k = imported.get(key)
  if (!k) {
    k = webcrypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    imported.set(key, k)
  }
  return k
}

/** HS256 is deterministic: the same claims always give the same token, so a re-join returns it again. */
export async function signQueueToken(key: Uint8Array, c: QueueTokenClaims): Promise<string> {
  return new SignJWT({ cid: c.concertId, st: c.status, seq: c.seq })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(QUEUE_TOKEN_ISSUER)
    .setSubject(c.userId)
    .setJti(`${c.seq.toString(36)}${c.status === 'ACTIVE' ? 'a' : 'w'}`)
    .setIssuedAt(c.issuedAt)
    .setExpirationTime(c.expiresAt)
    .sign(await hmacKey(key))
}

function claimsOf(payload: Record<string, unknown>): QueueTokenClaims | undefined {
  const { sub, cid, st, seq, iat, exp } = payload
  if (!isQueueId(sub) || !isQueueId(cid)) return undefined
  if (st !== 'WAITING' && st !== 'ACTIVE') return undefined
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) return undefined
  if (typeof iat !== 'number' || typeof exp !== 'number') return undefined
  return { userId: sub, concertId: cid, status: st, seq: seq as number, issuedAt: iat, expiresAt: exp }
}

/** Only HS256 with this key and issuer; `alg: none`, other algorithms and tampered tokens are `invalid`. */
export async function verifyQueueToken(key: Uint8Array, token: string, opts: { nowMs?: number } = {}): Promise<QueueTokenVerdict> {
  if (!COMPACT.test(token)) return { ok: false, reason: 'invalid' }
  try {
    const { payload } = await jwtVerify(token, await hmacKey(key), {
      algorithms: ['HS256'],
      issuer: QUEUE_TOKEN_ISSUER,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      ...(opts.nowMs === undefined ? {} : { currentDate: new Date(opts.nowMs) }),
    })
    const claims = claimsOf(payload)
    return claims ? { ok: true, claims } : { ok: false, reason: 'invalid' }
  } catch (err) {
    // jose checks the signature before the claims, so an expired token's payload is authentic.
    if (err instanceof errors.JWTExpired) {
      const claims = claimsOf(err.payload)
      return claims ? { ok: false, reason: 'expired', claims } : { ok: false, reason: 'invalid' }
    }
    return { ok: false, reason: 'invalid' }
  }
}
