/**
 * The join challenge's arithmetic without Node's crypto, so a browser (WebCrypto) and the gateway
 * (node:crypto) judge a proof the same way: the proof is `nonce:counter`, and its SHA-256 must start
 * with `difficulty` zero bits.
 */
export const MIN_CHALLENGE_DIFFICULTY = 1
export const MAX_CHALLENGE_DIFFICULTY = 28
/** About a second of a browser's work (docs/decisions/join-challenge.md). */
export const DEFAULT_CHALLENGE_DIFFICULTY = 19

export function proofText(nonce: string, counter: number): string {
  return `${nonce}:${counter}`
}

export function hasLeadingZeroBits(digest: Uint8Array, atLeast: number): boolean {
  const whole = atLeast >> 3
  for (let i = 0; i < whole; i++) if (digest[i] !== 0) return false
  const rest = atLeast & 7
  return rest === 0 || digest[whole]! >> (8 - rest) === 0
}
