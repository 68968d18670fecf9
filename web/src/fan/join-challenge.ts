import { hasLeadingZeroBits, proofText } from '@tickets/contracts/proof-of-work'

export interface JoinChallenge {
  nonce: string
  difficulty: number
}

const BATCH = 256

/**
 * Solves the join challenge an operator may switch on for a busy opening: finds the first counter
 * whose `nonce:counter` hashes (SHA-256, WebCrypto) to `difficulty` leading zero bits, in batches
 * that leave the page responsive. A few seconds on a phone at the default difficulty.
 */
export async function solveJoinChallenge(challenge: JoinChallenge): Promise<string> {
  const encoder = new TextEncoder()
  for (let base = 0; ; base += BATCH) {
    const proofs = Array.from({ length: BATCH }, (_, i) => proofText(challenge.nonce, base + i))
    const digests = await Promise.all(proofs.map((p) => crypto.subtle.digest('SHA-256', encoder.encode(p))))
    const found = digests.findIndex((d) => hasLeadingZeroBits(new Uint8Array(d), challenge.difficulty))
    if (found >= 0) return proofs[found]!
  }
}
