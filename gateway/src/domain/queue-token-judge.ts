import { queueTokenKey, verifyQueueToken, type QueueTokenClaims, type QueueTokenVerdict } from '@tickets/contracts/queue-token'
import { TwoGenerationCache } from './two-generation-cache.js'

/**
 * The gateway's one judge of queue tokens (the queue gate and the waiting room's answers both ask).
 * A fan polls with the same token many times a minute: a token whose signature was checked is
 * remembered by its exact text, with its claims, and only its expiry is judged again. Bounded and
 * evicting; tokens that fail the signature are never remembered, so made-up ones cannot crowd out
 * real ones. The bound keeps the cache small against the gateway's heap (128 MB under `npm start`):
 * 200,000 remembered tokens took about 80 MB and ran the gateway out of memory in a 100,000-fan
 * run; a line longer than the bound simply verifies again, as before.
 */
export function createQueueTokenJudge(secret: string, opts: { max?: number } = {}) {
  const key = queueTokenKey(secret)
  const signed = new TwoGenerationCache<string, QueueTokenClaims>(opts.max ?? 10_000)

  return async function judge(token: string, nowMs = Date.now()): Promise<QueueTokenVerdict> {
    const claims = signed.get(token)
    if (claims) return claims.expiresAt > Math.floor(nowMs / 1000) ? { ok: true, claims } : { ok: false, reason: 'expired', claims }
    const verdict = await verifyQueueToken(key, token, { nowMs })
    if (verdict.ok) signed.set(token, verdict.claims)
    return verdict
  }
}

export type QueueTokenJudge = ReturnType<typeof createQueueTokenJudge>
