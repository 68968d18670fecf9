import { setImmediate as yieldToEvents } from 'node:timers/promises'
import { QUEUE_PROOF_HEADER, searchProof, type Challenge } from '@tickets/contracts/queue-challenge'
import { JOIN_WITH_PROOF } from '../scenarios.js'
import type { Client, Reply } from './client.js'

// About 5 ms of hashing between yields: the other fans' requests and timers run on while one solves.
const COUNTERS_PER_SLICE = 4_096

/** The challenge a refused join carries (403 QUEUE_CHALLENGE_REQUIRED or _FAILED), if any. */
export function challengeIn(reply: Reply): Challenge | undefined {
  if (reply.status !== 403 || !reply.body || typeof reply.body !== 'object') return undefined
  const challenge = (reply.body as { challenge?: Partial<Challenge> }).challenge
  return typeof challenge?.nonce === 'string' && Number.isInteger(challenge.difficulty) ? (challenge as Challenge) : undefined
}

/** Solves as a browser tab would, a slice at a time, so that one runner process keeps playing every other fan meanwhile. */
export async function solveWithoutBlocking(challenge: Challenge): Promise<string> {
  for (let from = 0; ; from += COUNTERS_PER_SLICE) {
    const proof = searchProof(challenge, from, from + COUNTERS_PER_SLICE)
    if (proof) return proof
    await yieldToEvents()
  }
}

/**
 * A fan's join. When the concert has the join challenge on, the first join is refused with a
 * challenge: the fan solves it and joins again with the proof, a step of its own (refused again, it
 * counts as unexpected).
 */
export async function joinLine(client: Client, headers: Record<string, string>, concertId: string): Promise<Reply> {
  const joined = await client.callPolitely('join', 'POST', '/api/queue/token', headers, { concertId })
  const challenge = challengeIn(joined)
  if (!challenge) return joined
  const proof = await solveWithoutBlocking(challenge)
  return client.callPolitely(JOIN_WITH_PROOF, 'POST', '/api/queue/token', { ...headers, [QUEUE_PROOF_HEADER]: proof }, { concertId })
}
