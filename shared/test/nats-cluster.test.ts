// Events and requests on a real 3-node JetStream cluster with streams of 3 replicas, while the
// stream's leader is killed: the outbox relay publishes every event, the consumer applies each one
// exactly once (processed events), the stream holds each once (msgID), and requests are answered.
import { anEnvelope, SUBJECTS, type ReservationHeld } from '@tickets/contracts/events'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { startNatsCluster } from '@tickets/testkit/clusters'
import type { PoolConnection } from 'mariadb'
import pino from 'pino'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createDatabase, dropDatabase } from '../src/migrate.js'
import { createPool } from '../src/mysql.js'
import { connectNats, ensureStream, requestTraced, serveRpc, startConsumer } from '../src/nats.js'
import { insertOutboxEvents, OUTBOX_TABLE_SQL, startOutboxRelay } from '../src/outbox.js'
import { markProcessed } from '../src/processed-events.js'

const EVENTS = 150
const log = pino({ level: 'silent' })
const cluster = await startNatsCluster()
afterAll(() => cluster.dispose())

const iso = isolation(import.meta.url)
const url = mysqlUrl(iso.database('nats_cluster'))
await createDatabase(url)
const pool = createPool({ url, connectionLimit: 4, acquireTimeoutMs: 5_000 })
afterAll(async () => {
  await pool.end()
  await dropDatabase(url)
})
await pool.query(OUTBOX_TABLE_SQL)
await pool.query('CREATE TABLE processed_events (consumer VARCHAR(64) NOT NULL, event_id VARCHAR(64) NOT NULL, PRIMARY KEY (consumer, event_id))')
// The domain's effect, with no key of its own: a second effect of one event would be a second row.
await pool.query('CREATE TABLE applied (reservation_id VARCHAR(64) NOT NULL)')

const [first, ...others] = cluster.url.split(',')
const producer = await connectNats({ url: cluster.url, name: 'producer', namespace: iso.natsNamespace, streamReplicas: 3, log })
const consumerBus = await connectNats({ url: [...others, first].join(','), name: 'consumer', namespace: iso.natsNamespace, streamReplicas: 3, log })
afterAll(async () => {
  await Promise.allSettled([producer.close(), consumerBus.close()])
})
// Made first with one replica (as before the setting), then raised by a start with NATS_STREAM_REPLICAS=3.
await ensureStream({ ...producer, streamReplicas: 1 }, 'BOOKING_EVENTS')
const stream = await ensureStream(producer, 'BOOKING_EVENTS')

let handled = 0
async function apply(conn: PoolConnection, eventId: string, reservationId: string) {
  await conn.beginTransaction()
  if (!(await markProcessed(conn, { consumer: 'payment-booking-reservation-held', eventId }))) return conn.rollback()
  await conn.query('INSERT INTO applied (reservation_id) VALUES (?)', [reservationId])
  await conn.commit()
}
const consumer = await startConsumer(
  { bus: consumerBus, service: 'payment', log },
  {
    subject: SUBJECTS.RESERVATION_HELD,
    ackWaitMs: 2_000,
    async handle(event) {
      handled++
      const conn = await pool.getConnection()
      try {
        await apply(conn, event.id, event.data.reservationId)
      } finally {
        await conn.release()
      }
    },
  },
)
const relay = startOutboxRelay({ pool, bus: producer, log, idleDelayMs: 50 })
const responder = serveRpc(consumerBus, 'payment.echo', async (data) => ({ echo: (data as { n: number }).n }), log)
afterAll(async () => {
  await relay.stop()
  await consumer.stop()
  await responder.stop()
})

const held = (i: number): ReservationHeld => ({
  reservationId: `r${i}`,
  userId: 'u',
  concertId: 'c',
  scheduleId: 's',
  seatNumber: i,
  price: 1,
  expiresAt: new Date().toISOString(),
})
async function writeEvents(from: number, to: number) {
  const conn = await pool.getConnection()
  try {
    const events = Array.from({ length: to - from }, (_, k) => ({ subject: SUBJECTS.RESERVATION_HELD, event: anEnvelope(SUBJECTS.RESERVATION_HELD, held(from + k)) }))
    await insertOutboxEvents(conn, events)
  } finally {
    await conn.release()
  }
  relay.kick()
}
const count = async (sql: string) => Number((await pool.query<{ n: bigint }[]>(sql))[0]!.n)

// A new stream leader is elected within seconds; on busy cores the relay's retries and the consumer's
// next pull took up to 20 s more: the test allows a minute.
describe('NATS as a 3-node JetStream cluster', () => {
  it('when the stream leader is killed mid-run, then every event is applied exactly once and requests are answered', async () => {
    let info = await producer.jsm.streams.info(stream)
    expect(info.config.num_replicas).toBe(3)
    await vi.waitFor(
      async () => {
        info = await producer.jsm.streams.info(stream)
        expect(info.cluster?.replicas?.filter((r) => r.current && r.name !== info.cluster?.leader)).toHaveLength(2)
      },
      { timeout: 20_000, interval: 100 },
    )
    expect(await requestTraced(producer, 'payment.echo', { n: 1 }, { timeoutMs: 2_000 })).toEqual({ echo: 1 })

    await writeEvents(0, EVENTS / 3)
    await vi.waitFor(async () => expect(await count('SELECT COUNT(*) AS n FROM applied')).toBeGreaterThan(10), { timeout: 20_000, interval: 50 })
    const leader = cluster.nodes[Number(info.cluster!.leader!.replace(/^n/, ''))]!
    await leader.kill()
    await writeEvents(EVENTS / 3, EVENTS)

    // Requests go on through the remaining servers (a request in flight when its server died may fail: the caller retries).
    await vi.waitFor(async () => expect(await requestTraced(producer, 'payment.echo', { n: 2 }, { timeoutMs: 1_000 })).toEqual({ echo: 2 }), { timeout: 20_000, interval: 100 })
    await vi.waitFor(async () => expect(await count('SELECT COUNT(*) AS n FROM outbox_events WHERE published_at IS NULL')).toBe(0), { timeout: 40_000, interval: 200 })
    await vi.waitFor(async () => expect(await count('SELECT COUNT(*) AS n FROM applied')).toBe(EVENTS), { timeout: 40_000, interval: 200 })

    expect(await count('SELECT COUNT(DISTINCT reservation_id) AS n FROM applied')).toBe(EVENTS)
    expect(await count('SELECT COUNT(*) AS n FROM processed_events')).toBe(EVENTS)
    expect(handled).toBeGreaterThanOrEqual(EVENTS)
    const after = await producer.jsm.streams.info(stream)
    expect(after.state.messages).toBe(EVENTS)
    expect(after.cluster?.leader).not.toBe(info.cluster?.leader)
  }, 60_000)
})
