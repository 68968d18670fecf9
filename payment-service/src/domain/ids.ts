import { createHash } from 'node:crypto'

/**
 * A stable UUID-shaped id derived from business keys (RFC 9562 version 8 layout), so that a retry
 * of the same request (same user, same Idempotency-Key) names the same payment everywhere:
 * booking's handlers and the ledger's unique references are idempotent by it.
 */
export function derivedId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest()
  h[6] = (h[6]! & 0x0f) | 0x80
  h[8] = (h[8]! & 0x3f) | 0x80
  const hex = h.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
