import { gatewayKey, verifyGatewayRequest } from '@tickets/contracts/gateway-signature'
import { TEST_INTERNAL_SECRET } from '@tickets/testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'

export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
}

export interface TestUpstream {
  url: string
  port: number
  received: RecordedRequest[]
  /**
   * `hang`: accept requests (and the gateway's probes) and never answer; `stall`: the same, but the
   * probes are answered (a handler stuck, the process alive); `closing`: answer as a Fastify server
   * that is shutting down (a bare 503).
   */
  mode: 'answer' | 'hang' | 'stall' | 'closing'
  stop(): Promise<void>
  /** Listens again on the same port. */
  start(): Promise<void>
}

const key = gatewayKey(TEST_INTERNAL_SECRET)

/**
 * A real HTTP upstream on an ephemeral port that records what reached it and echoes it back, with
 * whether the gateway's signature on it holds (`signed`), as a service would judge it.
 */
export async function anUpstream(name: string): Promise<TestUpstream> {
  let app: FastifyInstance | undefined
  let port = 0
  const upstream: TestUpstream = {
    url: '',
    port: 0,
    received: [],
    mode: 'answer',
    async stop() {
      await app?.close()
      app = undefined
    },
    async start() {
      app = Fastify({ forceCloseConnections: true })
      app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body))
      // The gateway's probe: answered as the mode says, and not recorded.
      app.get('/health', async (_request, reply) => {
        if (upstream.mode === 'hang') await new Promise(() => undefined)
        if (upstream.mode === 'closing') return reply.code(503).send({ statusCode: 503 })
        return { status: 'UP' }
      })
      app.all('/*', async (request, reply) => {
        upstream.received.push({ method: request.method, url: request.url, headers: request.headers, body: request.body })
        if (upstream.mode === 'hang' || upstream.mode === 'stall') await new Promise(() => undefined)
        if (upstream.mode === 'closing') return reply.code(503).send({ error: 'Service Unavailable', message: 'Service Unavailable', statusCode: 503 })
        const signed = verifyGatewayRequest(key, request, Date.now(), 0).ok
        return { upstream: name, url: request.url, userId: request.headers['x-user-id'] ?? null, signed, body: request.body ?? null }
      })
      await app.listen({ port, host: '127.0.0.1' })
      port = (app.server.address() as { port: number }).port
      upstream.port = port
      upstream.url = `http://127.0.0.1:${port}`
    },
  }
  await upstream.start()
  afterAll(() => upstream.stop())
  return upstream
}
