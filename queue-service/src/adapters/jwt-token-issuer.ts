import { queueTokenKey, signQueueToken, verifyQueueToken } from '@tickets/contracts/queue-token'
import type { TokenIssuer } from '../domain/ports.js'

/** HS256 with a key derived for this purpose from AUTH_JWT_SECRET (the gateway derives the same). */
export function createJwtTokenIssuer(secret: string): TokenIssuer {
  const key = queueTokenKey(secret)
  return {
    issue: (claims) => signQueueToken(key, claims),
    verify: (token, nowMs) => verifyQueueToken(key, token, { nowMs }),
  }
}
