import { createServer, type IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp } from './helpers/build-test-app.js'

const TTL_MS = 300
/** Room for a starved event loop: a rotation timer or a request's arrival may be this late. */
const SLACK_MS = 1_000

interface Connection {
  acceptedAt: number
  requestsAt: number[]
  closed: boolean
}

/** A real upstream that notes, for each connection it accepts, when each request on it arrived. */
async function aCountingUpstream() {
  const connections: Connection[] = []
  const bySocket = new WeakMap<Socket, Connection>()
  const server = createServer((req: IncomingMessage, res) => {
    const answer = () => res.setHeader('content-type', 'application/json').end('{"ok":true}')
    // The gateway's probes come on connections of their own (fetch): only proxied requests count.
    if (req.url === '/health') return answer()
    bySocket.get(req.socket)!.requestsAt.push(performance.now())
    if (req.url?.includes('/slow/')) setTimeout(answer, TTL_MS * 3)
    else answer()
  })
  // Longer than the test: only the gateway may end a connection.
  server.keepAliveTimeout = 120_000
  server.on('connection', (socket: Socket) => {
    const connection: Connection = { acceptedAt: performance.now(), requestsAt: [], closed: false }
    connections.push(connection)
    bySocket.set(socket, connection)
    socket.on('close', () => (connection.closed = true))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  return { url, proxied: () => connections.filter((c) => c.requestsAt.length > 0) }
}

const upstream = await aCountingUpstream()
const { app } = await buildTestApp(import.meta.url, {
  QUEUE_URLS: upstream.url,
  BOOKING_URLS: upstream.url,
  PAYMENT_URLS: upstream.url,
  UPSTREAM_CONNECTION_TTL_MS: String(TTL_MS),
})

describe('connections to the services (UPSTREAM_CONNECTION_TTL_MS)', () => {
  it('when requests keep coming, then no connection takes new ones past the TTL, and each closes', async () => {
    const until = performance.now() + TTL_MS * 10
    while (performance.now() < until) expect((await app.inject({ method: 'GET', url: '/api/concerts' })).statusCode).toBe(200)

    const used = upstream.proxied()
    expect(used.length).toBeGreaterThan(1)
    for (const c of used) expect(c.requestsAt.at(-1)! - c.acceptedAt).toBeLessThan(TTL_MS + SLACK_MS)
    await vi.waitFor(() => expect(used.filter((c) => !c.closed)).toEqual([]), { timeout: TTL_MS * 2 + SLACK_MS * 5, interval: 50 })
  })

  it('when a request is under way as its connection is replaced, then it is answered in full', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/concerts/slow/schedules' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ok: true })
  })
})
