import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CHALLENGE_TTL_SECONDS, challengeKey, checkProof, hasLeadingZeroBits, issueChallenge, searchProof, solveChallenge } from '../src/queue-challenge.js'

const key = challengeKey('k'.repeat(32))
const fan = { concertId: 'c-1', userId: 'u-1' }
const now = Date.UTC(2026, 0, 1)

function zeroBits(text: string): number {
  const digest = createHash('sha256').update(text).digest()
  let bits = 0
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8
      continue
    }
    return bits + Math.clz32(byte) - 24
  }
  return bits
}

/** A counter whose hash falls short of `difficulty`, so only the work is wrong. */
function shortProof(nonce: string, difficulty: number): string {
  for (let counter = 0; ; counter++) if (zeroBits(`${nonce}:${counter}`) < difficulty) return `${nonce}:${counter}`
}

describe('join challenge', () => {
  it('counts leading zero bits across byte boundaries', () => {
    expect(hasLeadingZeroBits(Uint8Array.of(0, 0b0001_1111), 11)).toBe(true)
    expect(hasLeadingZeroBits(Uint8Array.of(0, 0b0001_1111), 12)).toBe(false)
    expect(hasLeadingZeroBits(Uint8Array.of(0, 0, 1), 16)).toBe(true)
    expect(hasLeadingZeroBits(Uint8Array.of(0b1000_0000), 1)).toBe(false)
  })

  it('a solved challenge is accepted, and its hash has the difficulty in zero bits', () => {
    const challenge = issueChallenge(key, fan, 12, now)
    expect(challenge).toMatchObject({ algorithm: 'sha256-leading-zero-bits', difficulty: 12, expiresAt: now / 1000 + CHALLENGE_TTL_SECONDS, header: 'X-Queue-Proof' })
    const proof = solveChallenge(challenge)
    expect(proof.startsWith(`${challenge.nonce}:`)).toBe(true)
    expect(zeroBits(proof)).toBeGreaterThanOrEqual(12)
    expect(checkProof(key, proof, fan, 12, now)).toEqual({ ok: true })
  })

  it('searched in slices, finds the same first proof as in one go', () => {
    const challenge = issueChallenge(key, fan, 10, now)
    const proof = solveChallenge(challenge)
    const counter = Number(proof.slice(proof.lastIndexOf(':') + 1))
    expect(searchProof(challenge, 0, counter)).toBeUndefined()
    expect(searchProof(challenge, counter, counter + 1)).toBe(proof)
  })

  it('refuses a counter whose work falls short', () => {
    const { nonce } = issueChallenge(key, fan, 12, now)
    expect(checkProof(key, shortProof(nonce, 12), fan, 12, now)).toEqual({ ok: false, reason: 'short-work' })
  })

  it("refuses another user's or concert's proof, and a nonce signed with another key", () => {
    const proof = solveChallenge(issueChallenge(key, fan, 8, now))
    expect(checkProof(key, proof, { ...fan, userId: 'u-2' }, 8, now)).toEqual({ ok: false, reason: 'foreign' })
    expect(checkProof(key, proof, { ...fan, concertId: 'c-2' }, 8, now)).toEqual({ ok: false, reason: 'foreign' })
    const forged = solveChallenge(issueChallenge(challengeKey('o'.repeat(32)), fan, 8, now))
    expect(checkProof(key, forged, fan, 8, now)).toEqual({ ok: false, reason: 'foreign' })
  })

  it('refuses a nonce whose difficulty or expiry was edited, though the work is done', () => {
    const { nonce, expiresAt } = issueChallenge(key, fan, 8, now)
    const later = nonce.replace(`.${expiresAt}.`, `.${expiresAt + 3600}.`)
    expect(checkProof(key, solveChallenge({ nonce: later, difficulty: 8 }), fan, 8, now)).toEqual({ ok: false, reason: 'foreign' })
    const harder = nonce.replace(/^8\./, '9.')
    expect(checkProof(key, solveChallenge({ nonce: harder, difficulty: 9 }), fan, 8, now)).toEqual({ ok: false, reason: 'foreign' })
  })

  it('refuses an expired nonce from its expiry on', () => {
    const challenge = issueChallenge(key, fan, 8, now)
    const proof = solveChallenge(challenge)
    expect(checkProof(key, proof, fan, 8, challenge.expiresAt * 1000 - 1)).toEqual({ ok: true })
    expect(checkProof(key, proof, fan, 8, challenge.expiresAt * 1000)).toEqual({ ok: false, reason: 'expired' })
  })

  it('takes a nonce issued harder than required, and refuses one easier (the operator raised it)', () => {
    const hard = solveChallenge(issueChallenge(key, fan, 10, now))
    expect(checkProof(key, hard, fan, 8, now)).toEqual({ ok: true })
    expect(checkProof(key, solveChallenge(issueChallenge(key, fan, 8, now)), fan, 10, now)).toEqual({ ok: false, reason: 'too-easy' })
  })

  it('refuses malformed proofs without hashing them as work', () => {
    const { nonce } = issueChallenge(key, fan, 8, now)
    for (const junk of ['', nonce, `${nonce}:`, `${nonce}:-1`, `${nonce}:1e3`, `${nonce}:1:2`, `0${nonce}:1`, `${nonce}:${'9'.repeat(17)}`, `99${nonce.slice(1)}:1`]) {
      expect(checkProof(key, junk, fan, 8, now)).toEqual({ ok: false, reason: 'malformed' })
    }
  })
})
