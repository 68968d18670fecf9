// The whole system as it runs in production: gateway, queue, booking and payment as four real
// processes (`node --import @tickets/shared/telemetry/register dist/server.js`), exporting OTLP to
// a receiver in this test. A fan joins, waits, holds and pays through the gateway; the pay request
// must be ONE trace across all four processes, parented hop by hop.
import { randomUUID } from 'node:crypto'
import { migrate as migrateBooking, seedDemoCatalogue } from '@tickets/booking-service/ops'
import { migrate as migratePayment, seedDemoWallets } from '@tickets/payment-service/ops'
import { signUserToken } from '@tickets/contracts/auth'
import { dropDatabase } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { freePort, isolation, mysqlUrl, startOtlpReceiver, TEST_INTERNAL_SECRET, type ReceivedSpan } from '@tickets/testkit'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { QUIET_GATEWAY_SETTINGS, TEST_SECRET } from '../helpers/build-test-app.js'
import { removeIsolatedState, startProcess as startTraced, stopProcess, type RunningProcess } from '../helpers/real-processes.js'

const SERVER = 2
const CLIENT = 3
const PRODUCER = 4
const CONSUMER = 5
const ERROR = 2

const iso = isolation(import.meta.url)
const bookingDb = mysqlUrl(iso.database('booking'))
const paymentDb = mysqlUrl(iso.database('payment'))
const receiver = await startOtlpReceiver()

const running: RunningProcess[] = []
let gateway = ''

async function startProcess(name: string, dir: string, env: Record<string, string>, port: number): Promise<RunningProcess> {
  const proc = await startTraced(
    name,
    dir,
    {
      REDIS_PREFIX: iso.redisPrefix,
      NATS_NAMESPACE: iso.natsNamespace,
      AUTH_JWT_SECRET: TEST_SECRET,
      INTERNAL_SECRET: TEST_INTERNAL_SECRET,
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER_ARG: '1',
      ...env,
    },
    port,
    { waitForTracing: true },
  )
  running.push(proc)
  return proc
}

beforeAll(async () => {
  await Promise.all([migrateBooking(bookingDb), migratePayment(paymentDb)])
  await Promise.all([seedDemoCatalogue(bookingDb, { seatsPerSchedule: 10 }), seedDemoWallets(paymentDb, { users: 3 })])
  const [queuePort, bookingPort, paymentPort, gatewayPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  await Promise.all([
    startProcess('queue-service', 'queue-service', { ADMISSION_RATE_PER_SECOND: '10000', ACTIVE_CAP: '10000', ADMISSION_TICK_MS: '100' }, queuePort),
    startProcess('booking-service', 'booking-service', { MYSQL_URL: bookingDb }, bookingPort),
    startProcess('payment-service', 'payment-service', { MYSQL_URL: paymentDb, OUTBOX_POLL_MS: '100' }, paymentPort),
  ])
  const g = await startProcess(
    'gateway',
    'gateway',
    {
      QUEUE_URLS: `http://127.0.0.1:${queuePort}`,
      BOOKING_URLS: `http://127.0.0.1:${bookingPort}`,
      PAYMENT_URLS: `http://127.0.0.1:${paymentPort}`,
      // Four processes and a test runner on two shared cores: the shedding and limits are not what is tested here.
      ...QUIET_GATEWAY_SETTINGS,
    },
    gatewayPort,
  )
  gateway = g.url
}, 120_000)

afterAll(async () => {
  await Promise.all(running.map(stopProcess))
  await Promise.all([dropDatabase(bookingDb), dropDatabase(paymentDb)]).catch(() => undefined)
  await removeIsolatedState(iso, 'one-trace-cleanup')
  await receiver.close()
}, 60_000)

interface Call {
  user: string
  queueToken?: string | undefined
  body?: unknown
  headers?: Record<string, string>
}

async function api(method: string, path: string, call: Call) {
  const headers: Record<string, string> = { authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: call.user, ttlSeconds: 600 })}`, ...call.headers }
  if (call.queueToken) headers['x-queue-token'] = call.queueToken
  if (call.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${gateway}${path}`, { method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) })
  const text = await res.text()
  return { status: res.status, traceId: res.headers.get('x-trace-id') ?? '', body: (text ? JSON.parse(text) : undefined) as Record<string, any> }
}

/** Joins the line of the first concert and polls until ACTIVE; returns the token and a schedule. */
async function admitted(user: string) {
  const concerts = await api('GET', '/api/concerts', { user })
  expect(concerts.status).toBe(200)
  const concertId: string = concerts.body.concerts[0].concertId
  const schedules = await api('GET', `/api/concerts/${concertId}/schedules`, { user })
  const scheduleId: string = schedules.body.schedules[0].scheduleId
  const joined = await api('POST', '/api/queue/token', { user, body: { concertId } })
  expect(joined.status, JSON.stringify(joined.body)).toBe(201)
  const token: string = joined.body.token
  for (let i = 0; i < 100; i++) {
    const poll = await api('GET', '/api/queue/token', { user, queueToken: token })
    expect(poll.status, JSON.stringify(poll.body)).toBe(200)
    if (poll.body.status === 'ACTIVE') return { concertId, scheduleId, token: (poll.body.token as string | undefined) ?? token, joinTrace: joined.traceId }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`user ${user} was not admitted`)
}

const isRedis = (s: ReceivedSpan) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis'
const isMariadb = (s: ReceivedSpan) => s.attributes['db.system'] === 'mariadb'

/** Waits until the trace holds what `ready` wants and no span's parent is missing (exports come in batches). */
async function traceOf(traceId: string, ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  let spans: ReceivedSpan[] = []
  for (let i = 0; i < 150; i++) {
    spans = receiver.spans.filter((s) => s.traceId === traceId)
    const ids = new Set(spans.map((s) => s.spanId))
    if (ready(spans) && spans.every((s) => !s.parentSpanId || ids.has(s.parentSpanId))) return spans
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`trace ${traceId} is incomplete: ${JSON.stringify(spans.map((s) => `${s.service}:${s.name}`))}`)
}

function ancestorsOf(span: ReceivedSpan, spans: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]))
  const chain: ReceivedSpan[] = []
  for (let p = span.parentSpanId ? byId.get(span.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) chain.push(p)
  return chain
}

describe('one trace across gateway, queue, booking and payment (four real processes)', () => {
  it('when a fan joins, holds and pays through the gateway, then the payment is one trace with every hop parented', async () => {
    const { concertId, scheduleId, token, joinTrace } = await admitted('1')
    // The first join asks booking over NATS whether the concert exists: booking's answer is part of the join's trace.
    const join = await traceOf(joinTrace, (all) => all.some((s) => s.service === 'booking-service' && s.kind === SERVER))
    const statusRequest = join.find((s) => s.service === 'queue-service' && s.kind === CLIENT && s.name === 'rpc.booking.concert_status request')
    expect(statusRequest, 'the waiting room asks booking').toBeDefined()
    expect(join.find((s) => s.service === 'booking-service' && s.kind === SERVER)?.parentSpanId).toBe(statusRequest!.spanId)
    expect(ancestorsOf(statusRequest!, join).at(-1)?.service).toBe('gateway')
    const seats = await api('GET', `/api/concerts/${concertId}/schedules/${scheduleId}/seats`, { user: '1', queueToken: token })
    expect(seats.status, JSON.stringify(seats.body)).toBe(200)
    const seat = seats.body.seats.find((s: { status: string }) => s.status === 'AVAILABLE')
    const hold = await api('POST', '/api/reservations', { user: '1', queueToken: token, body: { scheduleId, seatNumber: seat.seatNumber } })
    expect(hold.status, JSON.stringify(hold.body)).toBe(201)

    const pay = await api('POST', '/api/payments', { user: '1', queueToken: token, body: { reservationId: hold.body.reservationId }, headers: { 'idempotency-key': randomUUID() } })
    expect(pay.status, JSON.stringify(pay.body)).toBe(201)
    expect(pay.traceId).toMatch(/^[0-9a-f]{32}$/)

    const named = (spans: ReceivedSpan[], service: string, kind: number, name?: string) =>
      spans.filter((s) => s.service === service && s.kind === kind && (name === undefined || s.name === name))
    const spans = await traceOf(pay.traceId, (all) => named(all, 'queue-service', CONSUMER, 'payment.payment.completed process').length > 0)

    // The four processes.
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['gateway', 'queue-service', 'booking-service', 'payment-service']))

    // The gateway's server span is the root; its proxy hop is a child; payment's server span is the hop's child.
    const roots = spans.filter((s) => !s.parentSpanId)
    expect(roots.map((s) => `${s.service}:${s.kind}`)).toEqual([`gateway:${SERVER}`])
    const gatewayServer = roots[0]!
    const proxyHop = named(spans, 'gateway', CLIENT).find(
      (s) => s.parentSpanId === gatewayServer.spanId && named(spans, 'payment-service', SERVER).some((p) => p.parentSpanId === s.spanId),
    )
    expect(proxyHop, 'the gateway proxy CLIENT span that payment-service continues').toBeDefined()
    const paymentServer = named(spans, 'payment-service', SERVER).find((s) => s.parentSpanId === proxyHop!.spanId)!

    // payment -> booking over NATS: each request has booking's SERVER span as its child.
    const rpcRequests = named(spans, 'payment-service', CLIENT).filter((s) => s.attributes['messaging.system'] === 'nats')
    expect(rpcRequests.map((s) => s.name)).toEqual(expect.arrayContaining(['rpc.booking.begin_payment request', 'rpc.booking.confirm_payment request']))
    for (const request of rpcRequests) {
      const answered = named(spans, 'booking-service', SERVER).filter((s) => s.parentSpanId === request.spanId)
      expect(
        answered.map((s) => s.name),
        `booking answers ${request.name}`,
      ).toEqual([request.name.replace(/ request$/, ' process')])
      expect(ancestorsOf(request, spans)).toContain(paymentServer)
    }

    // Redis and database spans, in both services that touch the database.
    expect(spans.filter(isRedis).length, 'redis spans').toBeGreaterThan(0)
    const dbSpans = spans.filter(isMariadb)
    expect(new Set(dbSpans.map((s) => s.service))).toEqual(new Set(['booking-service', 'payment-service']))
    for (const s of dbSpans) {
      expect(s.kind).toBe(CLIENT)
      expect(typeof s.attributes['db.operation']).toBe('string')
      expect(String(s.attributes['db.statement']).length).toBeLessThanOrEqual(200)
      expect(String(s.attributes['db.statement'])).not.toContain(hold.body.reservationId)
    }

    // The outbox relay's publish carries the context stored with the row (a span of the pay request
    // in payment-service), and the waiting room's consumer, which ends the token, is its child.
    const publish = named(spans, 'payment-service', PRODUCER, 'payment.payment.completed publish')
    expect(publish).toHaveLength(1)
    const rowContext = spans.find((s) => s.spanId === publish[0]!.parentSpanId)
    expect(rowContext?.service).toBe('payment-service')
    const consumer = named(spans, 'queue-service', CONSUMER, 'payment.payment.completed process')
    expect(consumer).toHaveLength(1)
    expect(consumer[0]!.parentSpanId).toBe(publish[0]!.spanId)

    // Every span, in every process, chains up to the gateway's server span.
    for (const s of spans) {
      if (s === gatewayServer) continue
      expect(ancestorsOf(s, spans).at(-1), `${s.service}:${s.name}`).toBe(gatewayServer)
    }

    // And the consumer really ended the token.
    // (its span may be exported a moment before its Redis write lands on a busy machine)
    await vi.waitFor(async () => expect((await api('GET', '/api/queue/token', { user: '1', queueToken: token })).body.status).not.toBe('ACTIVE'), { timeout: 5_000, interval: 100 })
  })

  it('when a request fails inside a service, then its problem body carries the id of the trace that holds the failing span', async () => {
    const { scheduleId, token } = await admitted('2')

    // A 4xx decided in booking: a schedule that does not exist.
    const missing = await api('POST', '/api/reservations', { user: '2', queueToken: token, body: { scheduleId: randomUUID(), seatNumber: 1 } })
    expect(missing.status, JSON.stringify(missing.body)).toBe(404)
    expect(missing.body.code).toBe('BOOKING_SCHEDULE_NOT_FOUND')
    expect(missing.body.traceId).toBe(missing.traceId)
    const missingTrace = await traceOf(missing.body.traceId, (all) => all.some((s) => s.service === 'booking-service' && s.kind === SERVER))
    const bookingServer = missingTrace.find((s) => s.service === 'booking-service' && s.kind === SERVER)!
    expect(bookingServer.attributes['http.status_code'] ?? bookingServer.attributes['http.response.status_code']).toBe(404)
    expect(ancestorsOf(bookingServer, missingTrace).at(-1)?.service).toBe('gateway')

    // A 5xx for real: the hold's table is gone from booking's database, so its statement fails.
    const pool = createPool({ url: bookingDb, connectionLimit: 1, acquireTimeoutMs: 5_000 })
    await pool.query('RENAME TABLE hold_quotas TO hold_quotas_away')
    let failed: Awaited<ReturnType<typeof api>>
    try {
      failed = await api('POST', '/api/reservations', { user: '2', queueToken: token, body: { scheduleId, seatNumber: 9 } })
    } finally {
      await pool.query('RENAME TABLE hold_quotas_away TO hold_quotas')
      await pool.end()
    }
    expect(failed.status, JSON.stringify(failed.body)).toBeGreaterThanOrEqual(500)
    expect(failed.body.traceId).toBe(failed.traceId)
    const failedTrace = await traceOf(failed.body.traceId, (all) => all.some((s) => s.service === 'booking-service' && isMariadb(s) && s.status === ERROR))
    const failingStatement = failedTrace.find((s) => s.service === 'booking-service' && isMariadb(s) && s.status === ERROR)!
    expect(String(failingStatement.attributes['db.statement'])).toContain('hold_quotas')
    expect(ancestorsOf(failingStatement, failedTrace).at(-1)?.service).toBe('gateway')
    expect(failedTrace.some((s) => s.service === 'booking-service' && s.kind === SERVER && s.attributes['tickets.error'] === true)).toBe(true)
  })
})
