import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * Compact JWS with HS256 on node:crypto, synchronously. jose goes through WebCrypto: an async job
 * per token plus promise overhead, about 0.3 ms of the gateway's time for each new fan's join in
 * `npm run bench:join`. Signature and shape only; each caller checks its own claims.
 */
const COMPACT = /^([A-Za-z0-9_-]{1,512})\.([A-Za-z0-9_-]{1,2048})\.([A-Za-z0-9_-]{43})$/
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

export type JwtPayload = Record<string, unknown>

/** Deterministic: the same payload (same key order) always gives the same token. */
export function signHs256(key: Uint8Array, payload: JwtPayload): string {
  const body = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`
}

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * The payload of a token whose header says HS256 (nothing else: `none` and algorithm confusion
 * fail here) and whose signature this key made; `undefined` for anything else. A `crit` header is
 * refused: no extension is understood.
 */
export function verifyHs256(key: Uint8Array, token: string): JwtPayload | undefined {
  const parts = COMPACT.exec(token)
  if (!parts) return undefined
  const [, header, payload, signature] = parts as unknown as [string, string, string, string]
  const h = jsonObject(header)
  if (!h || h.alg !== 'HS256' || 'crit' in h) return undefined
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  return jsonObject(payload)
}

/** The standard time claims, as jose checks them: `exp` passed, `nbf` not yet, within a tolerance. */
export function timeClaimsProblem(payload: JwtPayload, nowSeconds: number, toleranceSeconds = 0): 'expired' | 'invalid' | undefined {
  const { exp, nbf, iat } = payload
  if (exp !== undefined && typeof exp !== 'number') return 'invalid'
  if (nbf !== undefined && typeof nbf !== 'number') return 'invalid'
  if (iat !== undefined && typeof iat !== 'number') return 'invalid'
  if (typeof nbf === 'number' && nbf > nowSeconds + toleranceSeconds) return 'invalid'
  if (typeof exp === 'number' && exp <= nowSeconds - toleranceSeconds) return 'expired'
  return undefined
}
