import type { Pool } from 'mariadb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppError } from '@tickets/contracts/errors'
import { anEnvelope, SUBJECTS } from '@tickets/contracts/events'
import { createDatabase, dropDatabase } from '../src/migrate.js'
import { createPool } from '../src/mysql.js'
import { insertOutboxEvents, OUTBOX_TABLE_SQL } from '../src/outbox.js'
import { markProcessed } from '../src/processed-events.js'
import { freePort, isolation, mysqlUrl } from '@tickets/testkit'
import { Rollback, withTransaction } from '../src/transaction.js'

const iso = isolation(import.meta.url)
const url = mysqlUrl(iso.database('tx'))
let pool: Pool

beforeAll(async () => {
  await createDatabase(url)
  pool = createPool({ url, connectionLimit: 4, acquireTimeoutMs: 2_000 })
  await pool.query('CREATE TABLE counters (id VARCHAR(16) PRIMARY KEY, n INT NOT NULL)')
  await pool.query('CREATE TABLE processed_events (consumer VARCHAR(64) NOT NULL, event_id VARCHAR(64) NOT NULL, PRIMARY KEY (consumer, event_id))')
  await pool.query(OUTBOX_TABLE_SQL)
})
afterAll(async () => {
  await pool?.end()
  await dropDatabase(url)
})

let seq = 0
async function aCounter(n = 0): Promise<string> {
  const id = `c${++seq}`
  await pool.query('INSERT INTO counters (id, n) VALUES (?, ?)', [id, n])
  return id
}
const valueOf = async (id: string) => (await pool.query<{ n: number }[]>('SELECT n FROM counters WHERE id = ?', [id]))[0]?.n

function aLatch() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}
type Latch = ReturnType<typeof aLatch>

/**
 * Two transactions that lock `a` and `b` in opposite orders, each waiting until the other holds its
 * first row (on their first run only): InnoDB kills one of them as a deadlock victim.
 */
function deadlockingPair(a: string, b: string, attempts?: number) {
  const calls = { first: 0, second: 0 }
  const aLocked = aLatch()
  const bLocked = aLatch()
  const bump = 'UPDATE counters SET n = n + 1 WHERE id = ?'
  /** Locks its first row, says so, waits for the other to hold its own, then asks for the second. */
  const lockBoth = (name: 'first' | 'second', [mine, theirs]: [string, string], locked: Latch, otherLocked: Latch) =>
    withTransaction(
      pool,
      async (conn) => {
        calls[name]++
        await conn.query(bump, [mine])
        locked.open()
        await otherLocked.opened
        await conn.query(bump, [theirs])
        return name
      },
      { attempts },
    )
  const first = lockBoth('first', [a, b], aLocked, bLocked)
  const second = lockBoth('second', [b, a], bLocked, aLocked)
  return { calls, results: Promise.allSettled([first, second]) }
}

describe('withTransaction', () => {
  it('when the work returns a value, then its writes are committed and the value returned', async () => {
    const id = await aCounter()
    const result = await withTransaction(pool, async (conn) => {
      await conn.query('UPDATE counters SET n = 5 WHERE id = ?', [id])
      return 'done'
    })
    expect(result).toBe('done')
    expect(await valueOf(id)).toBe(5)
  })

  it('when the work returns a Rollback, then its writes are undone and the Rollback value returned', async () => {
    const id = await aCounter()
    const result = await withTransaction<'WRITTEN' | 'REFUSED'>(pool, async (conn) => {
      await conn.query('UPDATE counters SET n = 7 WHERE id = ?', [id])
      return new Rollback('REFUSED')
    })
    expect(result).toBe('REFUSED')
    expect(await valueOf(id)).toBe(0)
  })

  it('when the work throws, then its writes are undone and the error reaches the caller unchanged', async () => {
    const id = await aCounter()
    const boom = new Error('boom')
    await expect(
      withTransaction(pool, async (conn) => {
        await conn.query('UPDATE counters SET n = 9 WHERE id = ?', [id])
        throw boom
      }),
    ).rejects.toBe(boom)
    expect(await valueOf(id)).toBe(0)
  })

  it('when two transactions deadlock, then the victim runs again and both commit', async () => {
    const [a, b] = [await aCounter(), await aCounter()]
    const { calls, results } = deadlockingPair(a, b)
    expect(await results).toEqual([
      { status: 'fulfilled', value: 'first' },
      { status: 'fulfilled', value: 'second' },
    ])
    expect(calls.first + calls.second).toBe(3)
    expect([await valueOf(a), await valueOf(b)]).toEqual([2, 2])
  })

  it('when a deadlock outlasts the attempts, then the caller gets 503 COMMON_OVERLOADED and the victim wrote nothing', async () => {
    const [a, b] = [await aCounter(), await aCounter()]
    const { calls, results } = deadlockingPair(a, b, 1)
    const settled = await results
    const rejected = settled.filter((r) => r.status === 'rejected')
    expect(rejected).toHaveLength(1)
    const reason = (rejected[0] as PromiseRejectedResult).reason
    expect(reason).toMatchObject({ code: 'COMMON_OVERLOADED', status: 503, headers: { 'retry-after': '1' } })
    expect(reason.cause).toMatchObject({ errno: 1213 })
    expect(calls).toEqual({ first: 1, second: 1 })
    expect([await valueOf(a), await valueOf(b)]).toEqual([1, 1])
  })

  it('when a deadlock victim had writes pipelined behind the failed statement, then none of them is committed on its own', async () => {
    const [a, b, behind] = [await aCounter(), await aCounter(), await aCounter()]
    const bump = 'UPDATE counters SET n = n + 1 WHERE id = ?'
    const aLocked = aLatch()
    const bLocked = aLatch()
    // The other transaction has written more (a heavier rollback), so InnoDB picks the pipeline's.
    const padding = await Promise.all(Array.from({ length: 20 }, () => aCounter()))
    const other = withTransaction(pool, async (conn) => {
      await conn.query(`UPDATE counters SET n = n + 1 WHERE id IN (?)`, [padding])
      await conn.query(bump, [b])
      bLocked.open()
      await aLocked.opened
      // Waits for the pipeline's lock on `a` until InnoDB breaks the cycle.
      await conn.query(bump, [a])
      return 'other'
    })
    const pipelined = withTransaction(
      pool,
      async (conn) => {
        await conn.query(bump, [a])
        await bLocked.opened
        aLocked.open()
        await new Promise((r) => setTimeout(r, 100))
        // The first waits for `b` and dies as the victim; the second was already sent behind it.
        await Promise.all([conn.query(bump, [b]), conn.query(bump, [behind])])
        return 'pipelined'
      },
      { attempts: 1 },
    )
    const [otherResult, pipelinedResult] = await Promise.allSettled([other, pipelined])
    expect(otherResult).toEqual({ status: 'fulfilled', value: 'other' })
    expect(pipelinedResult).toMatchObject({ status: 'rejected', reason: { code: 'COMMON_OVERLOADED' } })
    expect(await valueOf(behind)).toBe(0)
    expect([await valueOf(a), await valueOf(b)]).toEqual([1, 1])
  })

  it('when a transaction ends, then the connection goes back with autocommit on', async () => {
    const id = await aCounter()
    await withTransaction(pool, async (conn) => conn.query('UPDATE counters SET n = 1 WHERE id = ?', [id]))
    await withTransaction(pool, async () => new Rollback(undefined))
    const conns = await Promise.all(Array.from({ length: 4 }, () => pool.getConnection()))
    const modes = await Promise.all(conns.map(async (c) => (await c.query<{ on: number }[]>('SELECT @@autocommit AS `on`'))[0]!.on))
    await Promise.all(conns.map((c) => c.release()))
    expect(modes.map(Number)).toEqual([1, 1, 1, 1])
  })

  it('by default reads what others committed meanwhile (READ COMMITTED); with REPEATABLE READ it keeps its first snapshot', async () => {
    const id = await aCounter(1)
    const readTwice = (isolation?: 'REPEATABLE READ') =>
      withTransaction(
        pool,
        async (conn) => {
          const [before] = await conn.query<{ n: number }[]>('SELECT n FROM counters WHERE id = ?', [id])
          await pool.query('UPDATE counters SET n = n + 1 WHERE id = ?', [id])
          const [after] = await conn.query<{ n: number }[]>('SELECT n FROM counters WHERE id = ?', [id])
          return [before!.n, after!.n]
        },
        { isolation },
      )
    expect(await readTwice()).toEqual([1, 2])
    expect(await readTwice('REPEATABLE READ')).toEqual([2, 2])
  })
})

describe('withTransaction when the database cannot serve', () => {
  const expect503 = (err: unknown, code: string) => {
    expect(err).toBeInstanceOf(AppError)
    expect(err).toMatchObject({ status: 503, code, headers: { 'retry-after': '1' } })
  }

  it('when no pooled connection comes free in time, then 503 COMMON_OVERLOADED with Retry-After and the work never runs', async () => {
    const small = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 200 })
    const busy = await small.getConnection()
    let ran = false
    try {
      const err = await withTransaction(small, async () => (ran = true)).catch((e: unknown) => e)
      expect503(err, 'COMMON_OVERLOADED')
      expect(ran).toBe(false)
    } finally {
      await busy.release()
      await small.end()
    }
  })

  it('when nothing listens at the database address, then 503 with Retry-After, not a driver error', async () => {
    const nowhere = createPool({ url: `mysql://root@127.0.0.1:${await freePort()}/none`, connectionLimit: 1, acquireTimeoutMs: 500 })
    try {
      const err = await withTransaction(nowhere, async () => 'never').catch((e: unknown) => e)
      expect(err).toBeInstanceOf(AppError)
      expect(err).toMatchObject({ status: 503, headers: { 'retry-after': '1' } })
      expect((err as AppError).code).toMatch(/^COMMON_(OVERLOADED|DEPENDENCY_DOWN)$/)
    } finally {
      await nowhere.end()
    }
  })

  it('when a row lock outlasts the lock wait timeout, then the work is not run again and the caller gets a 503', async () => {
    const id = await aCounter()
    const impatient = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 2_000, lockWaitTimeoutSeconds: 1 })
    const holder = await pool.getConnection()
    let runs = 0
    try {
      await holder.beginTransaction()
      await holder.query('UPDATE counters SET n = 1 WHERE id = ?', [id])
      const err = await withTransaction(impatient, async (conn) => {
        runs++
        await conn.query('UPDATE counters SET n = 2 WHERE id = ?', [id])
      }).catch((e: unknown) => e)
      expect503(err, 'COMMON_DEPENDENCY_DOWN')
      expect(runs).toBe(1)
    } finally {
      await holder.rollback()
      await holder.release()
      await impatient.end()
    }
  })
})

describe('markProcessed', () => {
  const marker = () => ({ consumer: 'test-consumer', eventId: `e${++seq}` })
  const mark = (m: ReturnType<typeof marker>) => withTransaction(pool, (conn) => markProcessed(conn, m))

  it('when an event is marked the first time, then true; the same event again, then false', async () => {
    const m = marker()
    expect(await mark(m)).toBe(true)
    expect(await mark(m)).toBe(false)
    expect(await mark({ ...m, consumer: 'another-consumer' })).toBe(true)
  })

  it('when the transaction that marked an event rolls back, then the event is not marked (a redelivery applies it)', async () => {
    const m = marker()
    await withTransaction<string>(pool, async (conn) => {
      await markProcessed(conn, m)
      return new Rollback('REFUSED')
    })
    expect(await mark(m)).toBe(true)
  })

  it('when a step has no marker, then there is nothing to record: true', async () => {
    expect(await withTransaction(pool, (conn) => markProcessed(conn, undefined))).toBe(true)
  })
})

describe('insertOutboxEvents', () => {
  it('when several events are written, then each is a pending row with its subject and payload', async () => {
    const events = [
      { subject: SUBJECTS.PAYMENT_COMPLETED, event: anEnvelope(SUBJECTS.PAYMENT_COMPLETED, { n: 1 }) },
      { subject: SUBJECTS.PAYMENT_REFUNDED, event: anEnvelope(SUBJECTS.PAYMENT_REFUNDED, { n: 2 }) },
    ]
    await withTransaction(pool, (conn) => insertOutboxEvents(conn, events))
    const rows = await pool.query<{ id: string; subject: string; payload: string; published_at: Date | null }[]>(
      'SELECT id, subject, payload, published_at FROM outbox_events WHERE id IN (?) ORDER BY subject',
      [events.map((e) => e.event.id)],
    )
    expect(rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) as unknown }))).toEqual(
      events.map((e) => ({ id: e.event.id, subject: e.subject, payload: e.event, published_at: null })).sort((x, y) => x.subject.localeCompare(y.subject)),
    )
  })

  it('when there is no event, then nothing is written', async () => {
    const [before] = await pool.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM outbox_events')
    await withTransaction(pool, (conn) => insertOutboxEvents(conn, []))
    const [after] = await pool.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM outbox_events')
    expect(after!.n).toBe(before!.n)
  })
})
