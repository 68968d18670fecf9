import { context, SpanKind, trace } from '@opentelemetry/api'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anEnvelope, SUBJECTS } from '@tickets/contracts/events'
import { createPool, untracedPool } from '../src/mysql.js'
import { connectNats, ensureStream, type NatsBus } from '../src/nats.js'
import { insertOutboxEvents, OUTBOX_TABLE_SQL, startOutboxRelay, type OutboxRelay } from '../src/outbox.js'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { createDatabase, inMemoryTracing } from './helpers/traced-database.js'

const { exporter, sdk, tracer } = inMemoryTracing('outbox-tracing')
const iso = isolation(import.meta.url)
const database = iso.database('outbox')
let pool: ReturnType<typeof createPool>
let bus: NatsBus
let relay: OutboxRelay

beforeAll(async () => {
  await createDatabase(database)
  pool = createPool({ url: mysqlUrl(database), connectionLimit: 3, acquireTimeoutMs: 2_000 })
  await pool.query(OUTBOX_TABLE_SQL)
  bus = await connectNats({ url: 'nats://127.0.0.1:4222', name: 'outbox-tracing', namespace: iso.natsNamespace })
  await ensureStream(bus, 'PAYMENT_EVENTS')
  relay = startOutboxRelay({ pool, bus, log: pino({ level: 'silent' }), idleDelayMs: 60_000 })
  // Its first pass (at start) is over: the kick below starts a pass of its own.
  await new Promise((r) => setTimeout(r, 300))
})
afterAll(async () => {
  await relay?.stop()
  await bus?.jsm.streams.delete(bus.names.stream('PAYMENT_EVENTS')).catch(() => undefined)
  await bus?.close()
  await pool?.query(`DROP DATABASE \`${database}\``).catch(() => undefined)
  await pool?.end()
  await sdk.shutdown()
})

describe('the outbox relay and the trace of the request that kicked it', () => {
  it("when a request writes an event and kicks the relay, then the publish is its child, the relay's statements are not", async () => {
    const event = anEnvelope(SUBJECTS.PAYMENT_COMPLETED, { paymentId: 'p', reservationId: 'r', userId: 'u', concertId: 'c', amount: 1 })
    const span = tracer.startSpan('POST /api/payments', { kind: SpanKind.SERVER })
    const request = span.spanContext()
    await context.with(trace.setSpan(context.active(), span), async () => {
      const conn = await pool.getConnection()
      await insertOutboxEvents(conn, [{ subject: SUBJECTS.PAYMENT_COMPLETED, event }])
      await conn.release()
      relay.kick()
    })
    // The request is still open (as a slow one would be) while the relay publishes.
    for (let i = 0; i < 100; i++) {
      const [found] = await untracedPool(pool).query<{ published_at: Date | null }[]>('SELECT published_at FROM outbox_events WHERE id = ?', [event.id])
      if (found?.published_at) break
      await new Promise((r) => setTimeout(r, 50))
    }
    span.end()
    const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === request.traceId)
    const publish = inTrace.find((s) => s.kind === SpanKind.PRODUCER)
    expect(publish?.parentSpanContext?.spanId).toBe(request.spanId)
    // Only the request's own INSERT: none of the relay's SELECT ... FOR UPDATE / UPDATE published_at.
    expect(inTrace.filter((s) => s.attributes['db.system'] === 'mariadb').map((s) => s.attributes['db.operation'])).toEqual(['INSERT'])
  })
})
