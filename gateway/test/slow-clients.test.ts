import { connect, type Socket } from 'node:net'
import { signUserToken } from '@tickets/contracts/auth'
import { describe, expect, it } from 'vitest'
import { SECURITY_HEADERS } from '../src/plugins/security-headers.js'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const REQUEST_TIMEOUT_MS = 1_000
const payment = await anUpstream('payment')
const upstreams = { QUEUE_URLS: payment.url, BOOKING_URLS: payment.url, PAYMENT_URLS: payment.url }
const { app } = await buildTestApp(import.meta.url, { ...upstreams, HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) })
const address = await app.listen({ port: 0, host: '127.0.0.1' })
const port = Number(new URL(address).port)
const token = await signUserToken({ secret: TEST_SECRET, userId: 'slow-1' })

interface Ending {
  text: string
  afterMs: number
}

/** A raw connection that sends `head` and then one byte of `body` every `dripMs`, until the gateway closes it. */
function aClient(to: number, head: string, body = '', dripMs = 100): { ended: Promise<Ending>; socket: Socket } {
  const started = Date.now()
  const socket = connect(to, '127.0.0.1')
  let text = ''
  let drip: NodeJS.Timeout | undefined
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => (text += chunk))
  socket.on('error', () => undefined)
  socket.on('connect', () => {
    socket.write(head)
    let sent = 0
    drip = setInterval(() => {
      if (sent < body.length && socket.writable) socket.write(body[sent++]!)
    }, dripMs)
  })
  const ended = new Promise<Ending>((resolve) =>
    socket.on('close', () => {
      clearInterval(drip)
      resolve({ text, afterMs: Date.now() - started })
    }),
  )
  return { ended, socket }
}

const slowCharge = (authorization?: string) =>
  aClient(
    port,
    [
      'POST /api/points/charge HTTP/1.1',
      'host: gateway',
      'content-type: application/json',
      'content-length: 100',
      'idempotency-key: k',
      ...(authorization ? [`authorization: ${authorization}`] : []),
      '',
      '',
    ].join('\r\n'),
    `{"amount":${'1'.repeat(88)}}`,
  )

function expectProblemAnswer(text: string, status: number, code: string) {
  expect(text).toMatch(new RegExp(`^HTTP/1.1 ${status} `))
  expect(text.toLowerCase()).toContain('content-type: application/problem+json')
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(text.toLowerCase()).toContain(`${name}: ${value.toLowerCase()}`)
  expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ status, code, traceId: expect.stringMatching(/^[0-9a-f]{32}$/) })
}

describe('slow clients at the gateway', () => {
  it('when 30 signed-in clients send bodies slowly, then each gets 408 near its timeout while fans are served', async () => {
    const slow = Array.from({ length: 30 }, () => slowCharge(`Bearer ${token}`))
    const served = await Promise.all(Array.from({ length: 20 }, async () => (await fetch(`${address}/api/points`, { headers: { authorization: `Bearer ${token}` } })).status))
    expect(served.every((s) => s === 200)).toBe(true)
    const endings = await Promise.all(slow.map((c) => c.ended))
    for (const ending of endings) {
      expectProblemAnswer(ending.text, 408, 'COMMON_REQUEST_TIMEOUT')
      // Node looks for late requests once a second; the rest is room for a busy machine.
      expect(ending.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 4_000)
    }
    expect(payment.received.filter((r) => r.method === 'POST')).toEqual([])
  })

  it('when a client without a token starts a body slowly, then 401 comes at once and the connection closes', async () => {
    const ending = await slowCharge().ended
    expect(ending.text).toMatch(/^HTTP\/1.1 401 /)
    expect(ending.text.toLowerCase()).toContain('connection: close')
    expect(ending.text.match(/HTTP\/1.1/g)).toHaveLength(1)
    expect(ending.afterMs).toBeLessThan(REQUEST_TIMEOUT_MS)
  })

  it('when a client sends malformed HTTP, then Node refuses it as a 400 problem with the security headers', async () => {
    const { ended } = aClient(port, 'GET /api/concerts HTTP/1.1\r\nhost: gateway\r\nbad header line\r\n\r\n')
    expectProblemAnswer((await ended).text, 400, 'COMMON_VALIDATION')
  })

  it('when a client sends headers larger than Node takes, then 431 problem with the security headers', async () => {
    const { ended } = aClient(port, `GET /api/concerts HTTP/1.1\r\nhost: gateway\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expectProblemAnswer((await ended).text, 431, 'COMMON_HEADERS_TOO_LARGE')
  })
})

describe('connections per client address', async () => {
  const { app: bounded } = await buildTestApp(import.meta.url, { ...upstreams, MAX_CONNECTIONS_PER_ADDRESS: '3' })
  const boundedPort = Number(new URL(await bounded.listen({ port: 0, host: '127.0.0.1' })).port)
  const ask = 'GET /api/concerts HTTP/1.1\r\nhost: gateway\r\n\r\n'

  it('when an address holds its bound, then the next connection is closed unanswered, and a freed place is taken again', async () => {
    const held = Array.from({ length: 3 }, () => aClient(boundedPort, ask))
    await Promise.all(held.map((c) => new Promise<void>((resolve) => c.socket.once('data', () => resolve()))))
    const extra = await aClient(boundedPort, ask).ended
    expect(extra.text).toBe('')
    held[0]!.socket.destroy()
    await held[0]!.ended
    const again = aClient(boundedPort, ask)
    await new Promise<void>((resolve) => again.socket.once('data', () => resolve()))
    for (const c of [...held, again]) c.socket.destroy()
    expect((await again.ended).text).toMatch(/^HTTP\/1.1 200 /)
  })
})
