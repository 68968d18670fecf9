import { GATEWAY_SIGNATURE_HEADER, gatewayKey, signGatewayRequest } from '@tickets/contracts/gateway-signature'

/** INTERNAL_SECRET of every app a test builds (buildDatabaseTestApp sets it). */
export const TEST_INTERNAL_SECRET = 'internal-secret-for-tests-only-0123456789'

const key = gatewayKey(TEST_INTERNAL_SECRET)

interface RequestParts {
  method?: string
  url: string
  headers?: Record<string, string>
}

/**
 * A request to a service as the gateway sends it: the headers the gateway asserts (x-user-id,
 * x-queue-concert-id) signed with the test secret, the gateway stopping to wait `withinMs` from now.
 * Takes and returns `app.inject` options; for fetch, use its `headers`.
 */
export function fromGateway<T extends RequestParts>(request: T, withinMs = 30_000): T & { headers: Record<string, string> } {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name.toLowerCase()] = value
  const method = (request.method ?? 'GET').toUpperCase()
  headers[GATEWAY_SIGNATURE_HEADER] = signGatewayRequest(key, { method, url: request.url, headers }, Date.now() + withinMs)
  return { ...request, headers }
}
