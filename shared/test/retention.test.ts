import pino from 'pino'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase } from '../src/migrate.js'
import { createPool } from '../src/mysql.js'
import { connectNats, DEAD_LETTER_MAX_AGE_MS, ensureStream, EVENT_STREAM_MAX_AGE_MS, type NatsBus } from '../src/nats.js'
import { OUTBOX_TABLE_SQL } from '../src/outbox.js'
import { OUTBOX_RETENTION, PROCESSED_EVENTS_RETENTION, purgeExpiredRows, startRetention } from '../src/retention.js'
import { isolation, mysqlUrl } from '@tickets/testkit'

const iso = isolation(import.meta.url)
const url = mysqlUrl(iso.database('retention'))
let pool: ReturnType<typeof createPool>
let bus: NatsBus

const HOUR = 3_600_000

beforeAll(async () => {
  await createDatabase(url)
  pool = createPool({ url, connectionLimit: 2, acquireTimeoutMs: 2_000 })
  await pool.query(OUTBOX_TABLE_SQL)
  await pool.query(
    'CREATE TABLE processed_events (consumer VARCHAR(64) NOT NULL, event_id VARCHAR(64) NOT NULL, processed_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), PRIMARY KEY (consumer, event_id), INDEX (processed_at))',
  )
  bus = await connectNats({ url: 'nats://127.0.0.1:4222', name: 'retention', namespace: iso.natsNamespace })
})
afterAll(async () => {
  for await (const s of bus.jsm.streams.list()) {
    if (s.config.name.startsWith(`${iso.natsNamespace.toUpperCase()}_`)) await bus.jsm.streams.delete(s.config.name).catch(() => undefined)
  }
  await bus.close()
  await pool.end()
  await dropDatabase(url)
})

/** An outbox row `hoursAgo` old, published `publishedHoursAgo` ago or never. */
async function outboxRow(id: string, hoursAgo: number, publishedHoursAgo: number | null) {
  await pool.query(
    `INSERT INTO outbox_events (id, subject, payload, created_at, published_at) VALUES (?, 'payment.completed', '{}', NOW(3) - INTERVAL ? SECOND, ${publishedHoursAgo === null ? 'NULL' : 'NOW(3) - INTERVAL ? SECOND'})`,
    publishedHoursAgo === null ? [id, hoursAgo * 3600] : [id, hoursAgo * 3600, publishedHoursAgo * 3600],
  )
}

async function processed(eventId: string, hoursAgo: number) {
  await pool.query('INSERT INTO processed_events (consumer, event_id, processed_at) VALUES (?, ?, NOW(3) - INTERVAL ? SECOND)', ['c', eventId, hoursAgo * 3600])
}

const ids = async (table: string, column: string) => (await pool.query<Record<string, string>[]>(`SELECT ${column} FROM ${table} ORDER BY ${column}`)).map((r) => r[column])

describe('deleting rows that outlived their retention', () => {
  it('when outbox rows are old, then only those published more than a day ago go; unpublished ones stay however old', async () => {
    await outboxRow('old-published', 50, 49)
    await outboxRow('recently-published', 50, 23)
    await outboxRow('old-unpublished', 500, null)
    await outboxRow('new-unpublished', 0, null)
    expect(await purgeExpiredRows(pool, OUTBOX_RETENTION)).toBe(1)
    expect(await ids('outbox_events', 'id')).toEqual(['new-unpublished', 'old-unpublished', 'recently-published'])
  })

  it('when dedup records are older than the streams keep events plus a day, then they go, in as many batches as it takes', async () => {
    const keptHours = PROCESSED_EVENTS_RETENTION.keepMs / HOUR
    expect(PROCESSED_EVENTS_RETENTION.keepMs).toBeGreaterThan(EVENT_STREAM_MAX_AGE_MS)
    for (let i = 0; i < 5; i++) await processed(`expired-${i}`, keptHours + 1)
    await processed('inside-stream-age', EVENT_STREAM_MAX_AGE_MS / HOUR - 1)
    await processed('inside-margin', keptHours - 1)
    expect(await purgeExpiredRows(pool, PROCESSED_EVENTS_RETENTION, 2)).toBe(5)
    expect(await ids('processed_events', 'event_id')).toEqual(['inside-margin', 'inside-stream-age'])
  })

  it('when the retention is started, then its timer purges without being asked, and again each interval', async () => {
    await outboxRow('purged-by-the-timer', 100, 99)
    const retention = startRetention({ pool, rules: [OUTBOX_RETENTION], intervalMs: 50, log: pino({ level: 'silent' }) })
    try {
      await expect.poll(() => ids('outbox_events', 'id'), { timeout: 5_000, interval: 25 }).not.toContain('purged-by-the-timer')
      await outboxRow('purged-on-a-later-pass', 100, 99)
      await expect.poll(() => ids('outbox_events', 'id'), { timeout: 5_000, interval: 25 }).not.toContain('purged-on-a-later-pass')
    } finally {
      await retention.stop()
    }
  })

  it('when the retention is asked for a pass, then it counts what it deleted per table and stops cleanly', async () => {
    await outboxRow('published-long-ago', 100, 99)
    await processed('long-ago', 24 * 30)
    const metrics = new Registry()
    const retention = startRetention({ pool, rules: [OUTBOX_RETENTION, PROCESSED_EVENTS_RETENTION], intervalMs: 3_600_000, log: pino({ level: 'silent' }), metrics })
    try {
      expect(await retention.runOnce()).toEqual({ outbox_events: 1, processed_events: 1 })
      expect(await retention.runOnce()).toEqual({ outbox_events: 0, processed_events: 0 })
      const text = await metrics.metrics()
      expect(text).toContain('retention_rows_deleted_total{table="outbox_events"} 1')
      expect(text).toContain('retention_rows_deleted_total{table="processed_events"} 1')
    } finally {
      await retention.stop()
    }
  })

  it('when a table is missing, then that pass fails for it alone and the others still run', async () => {
    await outboxRow('published-ages-ago', 100, 99)
    const retention = startRetention({
      pool,
      rules: [{ table: 'no_such_table', timeColumn: 'at', keepMs: 1 }, OUTBOX_RETENTION],
      intervalMs: 3_600_000,
      log: pino({ level: 'silent' }),
    })
    try {
      expect(await retention.runOnce()).toEqual({ outbox_events: 1 })
    } finally {
      await retention.stop()
    }
  })

  it('when a rule names something that is not a plain identifier, then it is refused before any SQL', async () => {
    await expect(purgeExpiredRows(pool, { table: 'outbox_events; DROP TABLE x', timeColumn: 'published_at', keepMs: 1 })).rejects.toThrow(/not a table or column name/)
  })
})

describe('event streams keep messages for a bounded time', () => {
  it('when a stream is made, then it has the maximum age; the dead letters keep theirs longer', async () => {
    const events = await ensureStream(bus, 'PAYMENT_EVENTS')
    const dead = await ensureStream(bus, 'DEAD_LETTERS')
    expect((await bus.jsm.streams.info(events)).config.max_age).toBe(EVENT_STREAM_MAX_AGE_MS * 1_000_000)
    expect((await bus.jsm.streams.info(dead)).config.max_age).toBe(DEAD_LETTER_MAX_AGE_MS * 1_000_000)
  })

  it('when a stream was made before it had one, then it gets it and keeps its messages', async () => {
    const name = bus.names.stream('BOOKING_EVENTS')
    await bus.jsm.streams.add({ name, subjects: bus.names.streamSubjects('BOOKING_EVENTS') })
    await bus.js.publish(bus.names.subject('booking.reservation.confirmed'), '{}')
    await ensureStream(bus, 'BOOKING_EVENTS')
    const info = await bus.jsm.streams.info(name)
    expect(info.config.max_age).toBe(EVENT_STREAM_MAX_AGE_MS * 1_000_000)
    expect(info.state.messages).toBe(1)
  })
})
