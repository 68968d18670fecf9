import { afterAll, beforeAll, expect, it } from 'vitest'
import { databaseTrouble } from '../src/db-errors.js'
import { createPool } from '../src/mysql.js'
import { startDelayProxy, type DelayProxy } from '@tickets/testkit'

// Latency only, on a hop of this file's own: the shared MariaDB is neither stopped nor paused.
let link: DelayProxy
beforeAll(async () => {
  link = await startDelayProxy({ host: '127.0.0.1', port: 3306 })
})
afterAll(async () => {
  await link?.close()
})

/** Borrows one after another, each after the connection was idle past the pool's validation delay (it is pinged). */
async function idleBorrows(pool: ReturnType<typeof createPool>, count: number) {
  const outcomes: { outcome: string; ms: number }[] = []
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => setTimeout(resolve, 400))
    const started = performance.now()
    const outcome = await pool.query('SELECT 1').then(
      () => 'ok',
      (err: unknown) => databaseTrouble(err) ?? String(err),
    )
    outcomes.push({ outcome, ms: performance.now() - started })
  }
  return outcomes
}

it('when every answer takes 300 ms on the link from the start, then idle connections serve and it is never called down', async () => {
  link.setDelay(300)
  // Its handshake and session settings alone are three answers: 900 ms, so a longer acquire timeout.
  const pool = createPool({ url: `mysql://root@127.0.0.1:${link.port}/mysql`, connectionLimit: 1, acquireTimeoutMs: 2_000, statementTimeoutMs: 3_000 })
  pool.on('error', () => undefined)
  try {
    await pool.query('SELECT 1')
    expect((await idleBorrows(pool, 3)).map((o) => o.outcome)).toEqual(['ok', 'ok', 'ok'])
  } finally {
    await pool.end().catch(() => undefined)
    link.setDelay(0)
  }
}, 30_000)

it('when the link turns 300 ms slower on a quiet pool, then callers are refused only until its own check gets through', async () => {
  const pool = createPool({ url: `mysql://root@127.0.0.1:${link.port}/mysql`, connectionLimit: 1, acquireTimeoutMs: 1_000, statementTimeoutMs: 3_000 })
  pool.on('error', () => undefined)
  try {
    for (let i = 0; i < 3; i++) await pool.query('SELECT 1')
    link.setDelay(300)
    const outcomes = await idleBorrows(pool, 5)
    const served = outcomes.findIndex((o) => o.outcome === 'ok')
    const refused = outcomes.slice(0, served)
    expect(served, JSON.stringify(outcomes)).toBeGreaterThanOrEqual(0)
    // The check of the server is a handshake, two answers: 600 ms on this link, so at most two borrows 400 ms apart fall in it.
    expect(refused.length, JSON.stringify(outcomes)).toBeLessThanOrEqual(2)
    expect(
      refused.every((o) => o.outcome === 'down' && o.ms < 250),
      JSON.stringify(outcomes),
    ).toBe(true)
    expect(outcomes.slice(served).map((o) => o.outcome)).toEqual(Array(outcomes.length - served).fill('ok'))
  } finally {
    await pool.end().catch(() => undefined)
    link.setDelay(0)
  }
}, 30_000)
