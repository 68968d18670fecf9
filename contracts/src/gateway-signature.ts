import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto'
import { QUEUE_CONCERT_HEADER, USER_ID_HEADER } from './auth.js'

/**
 * The gateway's word to a service: `<deadline>.<mac>`, where `deadline` is the Unix time in
 * milliseconds after which the gateway no longer waits for the answer, and `mac` is HMAC-SHA256
 * (base64url) with the key from INTERNAL_SECRET over the method, the target, the deadline and the
 * headers the gateway asserts. A service believes those headers only with a valid signature.
 */
export const GATEWAY_SIGNATURE_HEADER = 'x-gateway-signature'

/** What the gateway asserts to a service, in the order the signature covers them. */
export const SIGNED_HEADERS = [USER_ID_HEADER, QUEUE_CONCERT_HEADER] as const

export const MIN_INTERNAL_SECRET_LENGTH = 32

const SIGNATURE = /^(\d{13})\.([A-Za-z0-9_-]{43})$/
const ORIGIN = 'http://upstream.invalid'

export type GatewayKey = KeyObject

export function gatewayKey(secret: string): GatewayKey {
  if (secret.length < MIN_INTERNAL_SECRET_LENGTH) throw new Error(`INTERNAL_SECRET must be at least ${MIN_INTERNAL_SECRET_LENGTH} characters`)
  return createSecretKey(Buffer.from(secret))
}

/** The parts of a request the signature covers; `headers` as Node gives them (lower-case names). */
export interface SignedRequest {
  method: string
  url: string
  headers: Readonly<Record<string, string | string[] | undefined>>
}

const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~/?=&]*$/

/**
 * The path and query as the service reads them: the proxy sends the path through WHATWG URL
 * parsing, which percent-encodes a few characters a client may send raw (`{`, `|`, a quote) and
 * folds dot segments. A plain path (the usual case) is already in that form.
 */
function targetOf(url: string): string {
  if (PLAIN_TARGET.test(url) && !url.includes('/.')) return url
  const parsed = new URL(url, ORIGIN)
  return parsed.pathname + parsed.search
}

function mac(key: GatewayKey, request: SignedRequest, deadline: string): Buffer | undefined {
  const hmac = createHmac('sha256', key).update(`${request.method}\n${targetOf(request.url)}\n${deadline}`)
  for (const name of SIGNED_HEADERS) {
    const value = request.headers[name] ?? ''
    // A repeated header arrives as an array (or joined): never what the gateway wrote.
    if (typeof value !== 'string') return undefined
    hmac.update(`\n${value}`)
  }
  return hmac.digest()
}

/** The header value for a request the gateway forwards with its asserted headers already set. */
export function signGatewayRequest(key: GatewayKey, request: SignedRequest, deadlineMs: number): string {
  const deadline = String(Math.floor(deadlineMs))
  return `${deadline}.${mac(key, request, deadline)!.toString('base64url')}`
}

export type GatewayVerdict = { ok: true; deadlineMs: number } | { ok: false; reason: 'missing' | 'invalid' | 'expired' }

/**
 * Whether the gateway signed this request. `expired`: signed, but the deadline passed more than
 * `clockSkewMs` ago; the gateway has answered the caller already, and a copy replayed later is
 * worthless.
 */
export function verifyGatewayRequest(key: GatewayKey, request: SignedRequest, nowMs: number, clockSkewMs: number): GatewayVerdict {
  const header = request.headers[GATEWAY_SIGNATURE_HEADER]
  if (header === undefined) return { ok: false, reason: 'missing' }
  const parts = typeof header === 'string' ? SIGNATURE.exec(header) : null
  if (!parts) return { ok: false, reason: 'invalid' }
  const expected = mac(key, request, parts[1]!)
  const given = Buffer.from(parts[2]!, 'base64url')
  if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' }
  const deadlineMs = Number(parts[1])
  if (nowMs > deadlineMs + clockSkewMs) return { ok: false, reason: 'expired' }
  return { ok: true, deadlineMs }
}
