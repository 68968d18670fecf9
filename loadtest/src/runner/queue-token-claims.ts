/**
 * The `seq` claim of a waiting-room token: the fan's place in the order of joining. Read without
 * verifying the signature (the runner only measures; the gateway is what checks tokens).
 */
export function seqOf(token: unknown): number | null {
  if (typeof token !== 'string') return null
  const payload = token.split('.')[1]
  if (!payload) return null
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
    const seq = claims && typeof claims === 'object' ? (claims as { seq?: unknown }).seq : undefined
    return typeof seq === 'number' && Number.isInteger(seq) && seq > 0 ? seq : null
  } catch {
    return null
  }
}
