import { mysqlUrl } from '@tickets/testkit'
import type { Pool } from 'mariadb'
import { Registry } from 'prom-client'
import { afterAll, describe, expect, it } from 'vitest'
import { claimForRequest, forCallerWithin } from '../src/connection-line.js'
import { databaseTrouble } from '../src/db-errors.js'
import { createPool, registerPoolMetrics } from '../src/mysql.js'

// One connection on the shared MariaDB: statements only sleep, nothing is stopped or written.
const pool: Pool = createPool({ url: mysqlUrl('mysql'), connectionLimit: 1, acquireTimeoutMs: 2_000, statementTimeoutMs: 3_000 })
afterAll(() => pool.end())
const registry = new Registry()
registerPoolMetrics(registry, pool, 1)
const refusals = async () => (await registry.getSingleMetric('db_pool_refused_total')!.get()).values[0]?.value

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function latch() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

/** Runs `work` as a request does (the services' onRequest hook gives each its claim). */
function inRequest<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => claimForRequest(() => void work().then(resolve, reject)))
}

describe('whose turn a pool of one gives next', () => {
  it('when new requests wait and a request that already had a connection asks for its next, then it is served before them', async () => {
    await pool.query('SELECT 1')
    expect(await refusals()).toBe(0)
    const order: string[] = []
    const admitted = latch()
    const goOn = latch()
    const request = inRequest(async () => {
      await pool.query('SELECT 1')
      admitted.open()
      await goOn.opened
      await pool.query('SELECT 1')
      order.push('second step')
    })
    await admitted.opened
    const busy = pool.query('SELECT SLEEP(0.2)')
    await sleep(20)
    const fresh = [1, 2].map((i) => inRequest(() => pool.query('SELECT 1')).then(() => order.push(`new ${i}`)))
    await sleep(20)
    goOn.open()
    await Promise.all([busy, ...fresh, request])
    expect(order).toEqual(['second step', 'new 1', 'new 2'])
  })

  it("when a request's caller stops listening after 50 ms, then its wait for a connection ends then with busy", async () => {
    const busy = pool.query('SELECT SLEEP(0.5)')
    await sleep(20)
    const started = performance.now()
    const outcome = await forCallerWithin(50, () => pool.query('SELECT 1')).then(
      () => 'ok',
      (err: unknown) => databaseTrouble(err),
    )
    const ms = performance.now() - started
    await busy
    expect({ outcome, withinDeadline: ms < 200 }).toEqual({ outcome: 'busy', withinDeadline: true })
    expect(await refusals()).toBe(1)
    // Its place was given up: the pool serves the next caller.
    expect(await pool.query('SELECT 1 AS one')).toEqual([{ one: 1 }])
  })
})
