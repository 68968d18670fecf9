import { describe, expect, it } from 'vitest'
import { GATEWAY_SIGNATURE_HEADER, gatewayKey, signGatewayRequest, verifyGatewayRequest, type SignedRequest } from '../src/gateway-signature.js'

const key = gatewayKey('a-secret-of-at-least-thirty-two-characters')
const NOW = 1_750_000_000_000

function signed(request: SignedRequest, deadlineMs = NOW + 1_000): SignedRequest {
  return { ...request, headers: { ...request.headers, [GATEWAY_SIGNATURE_HEADER]: signGatewayRequest(key, request, deadlineMs) } }
}
const verdict = (request: SignedRequest, now = NOW) => verifyGatewayRequest(key, request, now, 500)
const aRead: SignedRequest = { method: 'GET', url: '/api/points', headers: { 'x-user-id': 'u1' } }

describe('the gateway signature', () => {
  it('holds for the request it was made for, until the deadline plus the clock allowance', () => {
    expect(verdict(signed(aRead))).toEqual({ ok: true, deadlineMs: NOW + 1_000 })
    expect(verdict(signed(aRead), NOW + 1_500).ok).toBe(true)
    expect(verdict(signed(aRead), NOW + 1_501)).toEqual({ ok: false, reason: 'expired' })
  })

  it('fails when any covered part changes: method, path, query, user, concert, deadline', () => {
    const good = signed({ ...aRead, headers: { ...aRead.headers, 'x-queue-concert-id': 'c1' } })
    const header = good.headers[GATEWAY_SIGNATURE_HEADER] as string
    const changed: SignedRequest[] = [
      { ...good, method: 'POST' },
      { ...good, url: '/api/payments' },
      { ...good, url: '/api/points?x=1' },
      { ...good, headers: { ...good.headers, 'x-user-id': 'u2' } },
      { ...good, headers: { ...good.headers, 'x-user-id': undefined } },
      { ...good, headers: { ...good.headers, 'x-queue-concert-id': 'c2' } },
      { ...good, headers: { ...good.headers, [GATEWAY_SIGNATURE_HEADER]: `${NOW + 60_000}${header.slice(13)}` } },
    ]
    for (const request of changed) expect(verdict(request)).toEqual({ ok: false, reason: 'invalid' })
  })

  it('refuses a missing, malformed, repeated or other-key signature', () => {
    expect(verdict(aRead)).toEqual({ ok: false, reason: 'missing' })
    expect(verdict({ ...aRead, headers: { ...aRead.headers, [GATEWAY_SIGNATURE_HEADER]: 'x' } })).toEqual({ ok: false, reason: 'invalid' })
    const header = signed(aRead).headers[GATEWAY_SIGNATURE_HEADER] as string
    expect(verdict({ ...aRead, headers: { ...aRead.headers, [GATEWAY_SIGNATURE_HEADER]: [header, header] } }).ok).toBe(false)
    expect(verdict({ ...aRead, headers: { ...aRead.headers, 'x-user-id': ['u1', 'u1'], [GATEWAY_SIGNATURE_HEADER]: header } }).ok).toBe(false)
    const other = gatewayKey('another-secret-of-at-least-thirty-two-chars')
    expect(verdict({ ...aRead, headers: { ...aRead.headers, [GATEWAY_SIGNATURE_HEADER]: signGatewayRequest(other, aRead, NOW + 1_000) } }).ok).toBe(false)
  })

  it('covers the path as the service reads it, whether or not the client sent it encoded', () => {
    const raw = signed({ ...aRead, url: '/api/concerts/{c}/schedules' })
    expect(verdict({ ...raw, url: '/api/concerts/%7Bc%7D/schedules' }).ok).toBe(true)
  })

  it('refuses a short secret', () => {
    expect(() => gatewayKey('short')).toThrow(/INTERNAL_SECRET/)
  })
})
