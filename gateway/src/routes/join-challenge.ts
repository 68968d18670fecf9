import { AppError, type ErrorCode } from '@tickets/contracts/errors'
import { challengeKey, checkProof, issueChallenge, QUEUE_PROOF_HEADER, type ChallengeSubject, type ProofVerdict } from '@tickets/contracts/queue-challenge'
import { isQueueId } from '@tickets/contracts/queue-token'
import { Counter, type Registry } from 'prom-client'
import type { SwitchBoard } from '../adapters/redis-switches.js'
import type { Gate } from './proxy.js'

export interface JoinChallengeOptions {
  secret: string
  switches: SwitchBoard
  registry: Registry
}

const WHY: Record<Extract<ProofVerdict, { ok: false }>['reason'], string> = {
  malformed: 'X-Queue-Proof must be nonce:counter, the nonce as given',
  foreign: 'This nonce was not issued to you for this concert',
  expired: 'This nonce has expired',
  'too-easy': 'The difficulty was raised since this nonce was issued',
  'short-work': "The proof's SHA-256 does not start with enough zero bits",
}

/**
 * The join challenge, per concert (`npm run ops -- queue:challenge`): on a route the table marks
 * `challenge`, a join for a concert whose switch is on must carry a proof of work. Judged from the
 * switch board's copy and the proof alone, so a join refused here never reaches Redis; every refusal
 * carries a fresh challenge for this user and concert. Re-joins of fans already in line need one too:
 * telling them apart would take the Redis call this check runs before.
 */
export function joinChallengeGate(opts: JoinChallengeOptions): Gate {
  const key = challengeKey(opts.secret)
  const judged = new Counter({
    name: 'gateway_join_challenges_total',
    help: 'Joins to a concert with the challenge on, by outcome (passed, missing, or why the proof failed)',
    labelNames: ['outcome'],
    registers: [opts.registry],
  })

  function refuse(code: ErrorCode, detail: string, who: ChallengeSubject, difficulty: number, outcome: string): never {
    judged.inc({ outcome })
    throw new AppError(code, `${detail}: solve the challenge and join again with its proof in X-Queue-Proof`, {
      extra: { challenge: issueChallenge(key, who, difficulty) },
    })
  }

  return async (request, route) => {
    if (!route.challenge || !request.userId) return
    const body = request.body as { concertId?: unknown } | null | undefined
    const concertId = typeof body === 'object' && body !== null ? body.concertId : undefined
    // A join without a valid concert id is refused by the join's own validation.
    if (!isQueueId(concertId)) return
    const difficulty = opts.switches.current().challenges.get(concertId)
    if (difficulty === undefined) return
    const who = { concertId, userId: request.userId }
    const proof = request.headers[QUEUE_PROOF_HEADER]
    if (typeof proof !== 'string' || proof.length === 0) refuse('QUEUE_CHALLENGE_REQUIRED', 'Joining this concert needs a proof of work', who, difficulty, 'missing')
    const verdict = checkProof(key, proof, who, difficulty)
    if (!verdict.ok) refuse('QUEUE_CHALLENGE_FAILED', WHY[verdict.reason], who, difficulty, verdict.reason)
    judged.inc({ outcome: 'passed' })
  }
}
