// The join challenge in the k6 scripts: the same puzzle the Node runner solves with the contracts'
// functions, written again for k6 (see ../README.md on why the journeys exist twice). k6/crypto's
// sha256 runs one hash per call, as a script that plays a fan would.
import crypto from 'k6/crypto'
import type { RefinedResponse, ResponseType } from 'k6/http'
import { Trend } from 'k6/metrics'

/** Time to solve one challenge, per refused join (a metric of the init context, as k6 requires). */
const solveTime = new Trend('challenge_solve', true)

/** Whether a hex digest starts with at least `bits` zero bits. */
function hasLeadingZeroBits(hex: string, bits: number): boolean {
  const nibbles = bits >> 2
  for (let i = 0; i < nibbles; i++) if (hex[i] !== '0') return false
  const rest = bits & 3
  return rest === 0 || parseInt(hex[nibbles] ?? 'f', 16) >> (4 - rest) === 0
}

/** The X-Queue-Proof for a nonce: `nonce:counter` whose SHA-256 starts with `difficulty` zero bits. */
export function solveChallenge(nonce: string, difficulty: number): string {
  for (let counter = 0; ; counter++) {
    const proof = `${nonce}:${counter}`
    if (hasLeadingZeroBits(crypto.sha256(proof, 'hex'), difficulty)) return proof
  }
}

/** For a join refused with a challenge (403 with `challenge`): its solved proof; otherwise undefined. */
export function proofFor(res: RefinedResponse<ResponseType | undefined>): string | undefined {
  if (res.status !== 403) return undefined
  const nonce = res.json('challenge.nonce')
  const difficulty = res.json('challenge.difficulty')
  if (typeof nonce !== 'string' || typeof difficulty !== 'number') return undefined
  const started = Date.now()
  const proof = solveChallenge(nonce, difficulty)
  solveTime.add(Date.now() - started)
  return proof
}
