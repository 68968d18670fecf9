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

it('when every answer takes 300 ms on the link (longer than the driver waits for an idle connection check by default), then with the 1 s acquire timeout of the services an idle connection still serves, slowly, and the database is not called down', async () => {
  const pool = createPool({ url: `mysql://root@127.0.0.1:${link.port}/mysql`, connectionLimit: 1, acquireTimeoutMs: 1_000, statementTimeoutMs: 3_000 })
  pool.on('error', () => undefined)
  try {
    await pool.query('SELECT 1')
    link.setDelay(300)
    const outcomes: string[] = []
    for (let i = 0; i < 3; i++) {
      // Idle past the pool's validation delay: the next borrow checks the connection with a ping.
      await new Promise((resolve) => setTimeout(resolve, 400))
      outcomes.push(
        await pool.query('SELECT 1').then(
          () => 'ok',
          (err: unknown) => databaseTrouble(err) ?? String(err),
        ),
      )
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok'])
  } finally {
    await pool.end().catch(() => undefined)
  }
}, 30_000)
