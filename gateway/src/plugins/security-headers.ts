import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * The security headers an API needs (OWASP's REST list), on every answer, errors included. No CSP
 * on JSON (the docs pages set their own), no cross-origin embedding rules that break API clients,
 * and none of the headers that only concern HTML documents or retired browsers.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-site',
})

/**
 * Set on Fastify's reply, not on the raw response as @fastify/helmet does: one header already on
 * the raw response sends Node's writeHead down its slow path (every header set and checked one by
 * one), which cost the gateway about 30 µs of CPU a join.
 */
export default fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(SECURITY_HEADERS)
      done()
    })
  },
  { name: 'security-headers' },
)
