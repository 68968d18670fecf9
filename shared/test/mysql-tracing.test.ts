import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createPool, describeStatement, untracedPool } from '../src/mysql.js'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { createDatabase, inMemoryTracing } from './helpers/traced-database.js'

const { exporter, sdk, tracer } = inMemoryTracing('mysql-tracing')
const iso = isolation(import.meta.url)
const database = iso.database('pool')
let pool: ReturnType<typeof createPool>

beforeAll(async () => {
  await createDatabase(database)
  pool = createPool({ url: mysqlUrl(database), connectionLimit: 2, acquireTimeoutMs: 2_000 })
  await pool.query('CREATE TABLE secrets (id INT PRIMARY KEY, card VARCHAR(32))')
})
afterAll(async () => {
  await pool?.query(`DROP DATABASE \`${database}\``).catch(() => undefined)
  await pool?.end()
  await sdk.shutdown()
})
beforeEach(() => exporter.reset())

const dbSpans = () => exporter.getFinishedSpans().filter((s) => s.attributes['db.system'] === 'mariadb')

describe('database spans on the shared MariaDB pool', () => {
  it('when a statement runs inside a request span, then a CLIENT child span names it, never its values', async () => {
    await tracer.startActiveSpan('request', async (parent) => {
      await pool.query('INSERT INTO secrets (id, card) VALUES (?, ?)', [1, '4111-1111-1111-1111'])
      const rows = await pool.query<{ card: string }[]>('SELECT card FROM secrets WHERE id = ?', [1])
      expect(rows[0]?.card).toBe('4111-1111-1111-1111')
      parent.end()
    })
    const [insert, select] = dbSpans()
    const parent = exporter.getFinishedSpans().find((s) => s.name === 'request')!
    expect(insert?.kind).toBe(SpanKind.CLIENT)
    expect(insert?.name).toBe(`INSERT ${database}`)
    expect(insert?.attributes['db.operation']).toBe('INSERT')
    expect(insert?.attributes['db.statement']).toBe('INSERT INTO secrets (id, card) VALUES (?, ?)')
    expect(insert?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
    expect(select?.attributes['db.operation']).toBe('SELECT')
    expect(JSON.stringify(dbSpans().map((s) => s.attributes))).not.toContain('4111')
  })

  it('when a transaction runs on a pooled connection, then BEGIN, each statement and COMMIT are spans, failures errors', async () => {
    await tracer.startActiveSpan('request', async (parent) => {
      const conn = await pool.getConnection()
      try {
        await conn.beginTransaction()
        await conn.query('UPDATE secrets SET card = ? WHERE id = ?', ['x', 1])
        await expect(conn.query('SELECT nope FROM secrets')).rejects.toThrow(/nope/)
        await conn.commit()
      } finally {
        await conn.release()
      }
      parent.end()
    })
    const spans = dbSpans()
    expect(spans.map((s) => s.attributes['db.operation'])).toEqual(['BEGIN', 'UPDATE', 'SELECT', 'COMMIT'])
    expect(spans[2]?.status.code).toBe(SpanStatusCode.ERROR)
    expect(spans.every((s) => s.spanContext().traceId === spans[0]?.spanContext().traceId)).toBe(true)
  })

  it('when a statement waits for a connection, then the wait is a span of its own in the request, with its time in the line', async () => {
    // As the services make it (statements bounded): every borrow goes through the pool's line.
    const bounded = createPool({ url: mysqlUrl(database), connectionLimit: 1, acquireTimeoutMs: 2_000, statementTimeoutMs: 3_000 })
    const held = await bounded.getConnection()
    exporter.reset()
    await tracer.startActiveSpan('request', async (parent) => {
      const waiting = bounded.query('SELECT 1')
      await new Promise((r) => setTimeout(r, 60))
      await held.release()
      await waiting
      parent.end()
    })
    await bounded.end()
    const request = exporter.getFinishedSpans().find((s) => s.name === 'request')!
    const waits = exporter.getFinishedSpans().filter((s) => s.name === `wait for connection ${database}`)
    expect(waits).toHaveLength(1)
    expect(waits[0]!.parentSpanContext?.spanId ?? (waits[0] as unknown as { parentSpanId?: string }).parentSpanId).toBe(request.spanContext().spanId)
    expect(waits[0]!.attributes['db.pool.line_ms']).toBeGreaterThanOrEqual(50)
    expect(waits[0]!.attributes['db.pool.under_way']).toBe(false)
    expect(dbSpans().map((s) => s.attributes['db.operation'])).toEqual(['SELECT'])
  })

  it('when no span is active (sweeper, relay polling, metrics), then statements make no span', async () => {
    await pool.query('SELECT 1')
    const conn = await pool.getConnection()
    await conn.query('SELECT 2')
    await conn.release()
    expect(dbSpans()).toHaveLength(0)
  })

  it('when Prisma gets the untraced pool, then its statements make no second span, and the pool is the same pool', async () => {
    const raw = untracedPool(pool)
    expect(raw).not.toBe(pool)
    expect(untracedPool(raw)).toBe(raw)
    await tracer.startActiveSpan('request', async (parent) => {
      await raw.query('SELECT 1')
      parent.end()
    })
    expect(dbSpans()).toHaveLength(0)
    expect(pool.totalConnections()).toBe(raw.totalConnections())
  })

  it('when a statement is long or spread over lines, then it is flattened and cut to about 200 characters', () => {
    const long = `SELECT\n  ${Array.from({ length: 80 }, (_, i) => `c${i}`).join(',\n  ')}\nFROM t WHERE id = ?`
    const d = describeStatement(long)
    expect(d.operation).toBe('SELECT')
    expect(d.statement.length).toBeLessThanOrEqual(200)
    expect(d.statement).not.toContain('\n')
    expect(describeStatement('  (select 1) union (select 2)').operation).toBe('SELECT')
  })
})
