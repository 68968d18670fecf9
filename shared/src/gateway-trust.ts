import { AppError } from '@tickets/contracts/errors'
import { gatewayKey, verifyGatewayRequest } from '@tickets/contracts/gateway-signature'
import type { FastifyRequest } from 'fastify'

export interface GatewayTrustOptions {
  secret: string
  clockSkewMs: number
}

const NOT_SIGNED = { headers: { 'www-authenticate': 'Gateway' } }

/**
 * The one judge of whether a request to a service's API came from the gateway: the signature
 * over the user and queue concert it asserts (contracts/gateway-signature). A caller that reaches a
 * service's port some other way is refused before its body is read. Returns when the gateway stops
 * waiting for the answer, as performance.now() milliseconds, so the request's work can be bounded by it.
 */
export function createGatewayTrust(opts: GatewayTrustOptions) {
  const key = gatewayKey(opts.secret)
  return function deadlineOf(request: FastifyRequest): number {
    const now = Date.now()
    const verdict = verifyGatewayRequest(key, request, now, opts.clockSkewMs)
    if (verdict.ok) return performance.now() + (verdict.deadlineMs - now)
    // Signed, but so late that nobody waits for the answer (an instance that was paused, or clocks
    // apart by more than the allowance): refused as our fault, not the caller's.
    if (verdict.reason === 'expired') throw new AppError('COMMON_DEADLINE_PASSED', 'The gateway stopped waiting for this request', { headers: { 'retry-after': '1' } })
    throw new AppError('AUTH_NOT_FROM_GATEWAY', verdict.reason === 'missing' ? 'Call the API through the gateway' : 'The gateway signature is not valid', NOT_SIGNED)
  }
}
