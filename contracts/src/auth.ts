import { hkdfSync } from 'node:crypto'
import { signHs256 } from './hs256.js'

export const USER_ID_HEADER = 'x-user-id'
export const MIN_SECRET_LENGTH = 32

function keyOf(secret: string): Uint8Array {
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`AUTH_JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`)
  return new TextEncoder().encode(secret)
}

/** Mints a user JWT (HS256, `sub` = user id, `exp` set, `iss` when given): for development, tests and load runs. */
export async function signUserToken(opts: { secret: string; userId: string; ttlSeconds?: number; issuer?: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return signHs256(keyOf(opts.secret), {
    sub: opts.userId,
    ...(opts.issuer ? { iss: opts.issuer } : {}),
    iat: now,
    exp: now + (opts.ttlSeconds ?? 3600),
  })
}

export function secretKey(secret: string): Uint8Array {
  return keyOf(secret)
}

/** Set by the gateway from a verified ACTIVE queue token (stripped from client requests, like x-user-id). */
export const QUEUE_CONCERT_HEADER = 'x-queue-concert-id'

/**
 * A key for one purpose derived from AUTH_JWT_SECRET (HKDF-SHA256), so one configured secret yields
 * independent keys: a user token can never pass as a queue token or the other way round.
 */
export function deriveKey(secret: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', keyOf(secret), new Uint8Array(0), `tickets:${purpose}`, 32))
}
