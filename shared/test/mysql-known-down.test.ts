import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { databaseTrouble } from '../src/db-errors.js'
import type { Pool } from 'mariadb'
import { createPool } from '../src/mysql.js'
import { startThrowawayMariadb, type ThrowawayServer } from '@tickets/testkit'

let mariadb: ThrowawayServer & { dispose(): Promise<void> }
beforeAll(async () => {
  mariadb = await startThrowawayMariadb()
})
afterAll(async () => {
  await mariadb?.dispose()
})

async function timed(run: () => Promise<unknown>) {
  const started = performance.now()
  const outcome = await run().then(
    () => 'ok' as const,
    (err: unknown) => databaseTrouble(err) ?? 'other',
  )
  return { outcome, ms: performance.now() - started }
}

/** A pool as the services make it (3 s statement bound) on the throw-away server, ended after `use`. */
async function withPool(settings: { connectionLimit: number; acquireTimeoutMs: number; maxWaiting?: number }, use: (pool: Pool) => Promise<void>) {
  const pool = createPool({ url: `${mariadb.url}/mysql`, statementTimeoutMs: 3_000, ...settings })
  pool.on('error', () => undefined)
  try {
    await use(pool)
  } finally {
    await pool.end().catch(() => undefined)
  }
}

/** The caller was told `outcome` (the database busy or down) within `ms`. */
function expectToldWithin(answer: { outcome: string; ms: number }, outcome: 'busy' | 'down', ms: number) {
  expect({ outcome: answer.outcome, fast: answer.ms < ms }).toEqual({ outcome, fast: true })
}

/** A few quick statements: the pool learns how fast this server answers. */
async function learnThePace(pool: Pool) {
  for (let i = 0; i < 5; i++) expect((await timed(() => pool.query('SELECT 1'))).outcome).toBe('ok')
}

/** `during` runs while MariaDB hangs (SIGSTOP); then it resumes and the pool must serve again. */
async function whileHung(pool: Pool, during: () => Promise<void>) {
  await mariadb.pause()
  try {
    await during()
  } finally {
    mariadb.resume()
  }
  expect(await servedAgain(pool)).toBe(true)
}

/** True once a statement is served again, within about 4 s. */
async function servedAgain(pool: Pool) {
  for (let i = 0; i < 40; i++) {
    if ((await timed(() => pool.query('SELECT 1'))).outcome === 'ok') return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

describe('a pool whose database is down', () => {
  it('when every connection is lent out, then each new caller waits its share of the acquire timeout and is told busy', async () => {
    await withPool({ connectionLimit: 1, acquireTimeoutMs: 400 }, async (pool) => {
      const held = await pool.getConnection()
      const waits = [await timed(() => pool.query('SELECT 1')), await timed(() => pool.query('SELECT 1'))]
      // New work waits a fifth of the acquire timeout (connection-line), then busy: not down.
      expect(waits.map((w) => ({ outcome: w.outcome, waited: w.ms >= 75 }))).toEqual([
        { outcome: 'busy', waited: true },
        { outcome: 'busy', waited: true },
      ])
      await held.release()
      expect((await timed(() => pool.query('SELECT 1'))).outcome).toBe('ok')
    })
  }, 30_000)
  it('when every connection is lent out and the line is full, then the next caller is told busy at once', async () => {
    await withPool({ connectionLimit: 1, acquireTimeoutMs: 2_000, maxWaiting: 2 }, async (pool) => {
      const held = await pool.getConnection()
      const inLine = [timed(() => pool.query('SELECT 1')), timed(() => pool.query('SELECT 1'))]
      const refused = await timed(() => pool.query('SELECT 1'))
      expectToldWithin(refused, 'busy', 50)
      await held.release()
      expect((await Promise.all(inLine)).map((w) => w.outcome)).toEqual(['ok', 'ok'])
      // The line is empty again: the next caller gets a connection.
      expect((await timed(() => pool.query('SELECT 1'))).outcome).toBe('ok')
    })
  }, 30_000)
  it('when a burst arrives while the pool makes its connections, then everyone waits and is served', async () => {
    await withPool({ connectionLimit: 2, acquireTimeoutMs: 2_000, maxWaiting: 1 }, async (pool) => {
      const burst = await Promise.all(Array.from({ length: 6 }, () => timed(() => pool.query('SELECT SLEEP(0.05)'))))
      expect(burst.map((b) => b.outcome)).toEqual(Array(6).fill('ok'))
    })
  }, 30_000)
  it('when one pooled connection is killed while MariaDB runs, then the pool does not call it down', async () => {
    const pool = createPool({ url: `${mariadb.url}/mysql`, connectionLimit: 2, acquireTimeoutMs: 800, statementTimeoutMs: 3_000 })
    pool.on('error', () => undefined)
    const dbaPool = createPool({ url: `${mariadb.url}/mysql`, connectionLimit: 1, acquireTimeoutMs: 800 })
    const dba = await dbaPool.getConnection()
    try {
      const victim = await pool.getConnection()
      const [{ id }] = await victim.query<{ id: bigint }[]>('SELECT CONNECTION_ID() AS id')
      await victim.release()
      await dba.query(`KILL ${id}`)
      // Long enough for the lost connection's error to reach the pool and its check of the server to end.
      await new Promise((r) => setTimeout(r, 300))
      const after = await Promise.all(Array.from({ length: 4 }, () => timed(() => pool.query('SELECT 1'))))
      expect(after.map((a) => a.outcome)).toEqual(['ok', 'ok', 'ok', 'ok'])
    } finally {
      await dba.release()
      await dbaPool.end().catch(() => undefined)
      await pool.end().catch(() => undefined)
    }
  }, 30_000)
  it('when a statement waits long on a quiet pool, then the pool checks the server rarely and never calls it down', async () => {
    await withPool({ connectionLimit: 2, acquireTimeoutMs: 1_000 }, async (pool) => {
      const connections = async () => Number((await pool.query<{ Value: string }[]>("SHOW GLOBAL STATUS LIKE 'Connections'"))[0]!.Value)
      await learnThePace(pool)
      const before = await connections()
      expect((await timed(() => pool.query('SELECT SLEEP(1.5)'))).outcome).toBe('ok')
      // Each check is one connection of the pool's own: at most one per 250 ms of silence.
      expect((await connections()) - before).toBeLessThanOrEqual(7)
      expect((await timed(() => pool.query('SELECT 1'))).outcome).toBe('ok')
    })
  }, 30_000)
  it('when MariaDB hangs (SIGSTOP), then new callers are told down within 250 ms, and served once it resumes', async () => {
    await withPool({ connectionLimit: 4, acquireTimeoutMs: 1_000 }, async (pool) => {
      await learnThePace(pool)
      // Idle past the pool's validation delay, as a quiet service is: the next borrow pings.
      await new Promise((r) => setTimeout(r, 300))
      await whileHung(pool, async () => {
        const callers = await Promise.all(Array.from({ length: 3 }, () => timed(() => pool.query('SELECT 1'))))
        expect(callers.map((c) => ({ outcome: c.outcome, fast: c.ms < 250 }))).toEqual(Array(3).fill({ outcome: 'down', fast: true }))
        const next = await timed(() => pool.query('SELECT 1'))
        expectToldWithin(next, 'down', 50)
      })
    })
  }, 30_000)
  it('when a statement is on its way while MariaDB hangs, then it is told down within 250 ms, not at its 3 s deadline', async () => {
    await withPool({ connectionLimit: 2, acquireTimeoutMs: 1_000 }, async (pool) => {
      await learnThePace(pool)
      const conn = await pool.getConnection()
      await whileHung(pool, async () => {
        const waiting = await timed(() => conn.query('SELECT 1'))
        expectToldWithin(waiting, 'down', 250)
      })
    })
  }, 30_000)
  it('when the event loop is blocked while the pool checks a silent server, then the server is not called down', async () => {
    await withPool({ connectionLimit: 2, acquireTimeoutMs: 1_000 }, async (pool) => {
      await learnThePace(pool)
      await mariadb.pause()
      const waiting = timed(() => pool.query('SELECT 1'))
      // Long enough for the silence to start the pool's check, shorter than the check's verdict (120 ms at least).
      await new Promise((r) => setTimeout(r, 80))
      // A join storm on two cores: the event loop is busy in a callback for a while, past the verdict's
      // time, and the server answers meanwhile (from setImmediate: the loop's next turn starts with the
      // timers, before any I/O is read).
      await new Promise((r) => setImmediate(r))
      mariadb.resume()
      const blockedUntil = performance.now() + 400
      while (performance.now() < blockedUntil);
      expect((await waiting).outcome).toBe('ok')
      expect((await timed(() => pool.query('SELECT 1'))).outcome).toBe('ok')
    })
  }, 30_000)
  it('when MariaDB stops, then every caller, the first too, is told down at once, and served once MariaDB is back', async () => {
    await withPool({ connectionLimit: 4, acquireTimeoutMs: 800 }, async (pool) => {
      expect((await timed(() => pool.query('SELECT 1'))).outcome).toBe('ok')
      await mariadb.stop()
      const first = await timed(() => pool.query('SELECT 1'))
      expectToldWithin(first, 'down', 250)
      const next = await Promise.all(Array.from({ length: 5 }, () => timed(() => pool.query('SELECT 1'))))
      expect(next.map((c) => ({ outcome: c.outcome, fast: c.ms < 50 }))).toEqual(Array(5).fill({ outcome: 'down', fast: true }))
      // Seconds later, still down: the pool's own probe finds out, no caller waits for it.
      await new Promise((r) => setTimeout(r, 2_500))
      const later = await timed(() => pool.query('SELECT 1'))
      expectToldWithin(later, 'down', 50)
      await mariadb.restart()
      expect(await servedAgain(pool)).toBe(true)
    })
  }, 30_000)
})
