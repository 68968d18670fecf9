import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkDependencies, DEPENDENCY_BUSY } from '../src/health.js'
import { createPool, checkPool } from '../src/mysql.js'
import { connectNats, type NatsBus } from '../src/nats.js'
import { startThrowawayMariadb, startThrowawayNats, type ThrowawayServer } from '@tickets/testkit'

type Server = ThrowawayServer & { dispose(): Promise<void> }
let nats: Server
let mariadb: Server
let bus: NatsBus
let pool: ReturnType<typeof createPool>

beforeAll(async () => {
  ;[nats, mariadb] = await Promise.all([startThrowawayNats(), startThrowawayMariadb()])
  bus = await connectNats({ url: nats.url, name: 'readiness-test', namespace: 't' })
  pool = createPool({ url: `${mariadb.url}/mysql`, connectionLimit: 2, acquireTimeoutMs: 500 })
  pool.on('error', () => undefined)
})
afterAll(async () => {
  await bus?.close().catch(() => undefined)
  await pool?.end().catch(() => undefined)
  await Promise.all([nats?.dispose(), mariadb?.dispose()])
})

const checks = () => ({ nats: () => bus.ping(), database: () => checkPool(pool) })

async function until(predicate: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 150; i++) {
    if (await predicate()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('dependency health of NATS and MariaDB', () => {
  it('when every pooled connection is lent out, then the database check says BUSY at once and takes no connection', async () => {
    const lent = [await pool.getConnection(), await pool.getConnection()]
    try {
      const started = performance.now()
      expect(await checkPool(pool)).toBe(DEPENDENCY_BUSY)
      // Well under the pool's acquire timeout (500 ms): it did not wait in line.
      expect(performance.now() - started).toBeLessThan(400)
      expect((await checkDependencies(checks(), 1_000)).dependencies.database).toMatchObject({ status: 'BUSY' })
    } finally {
      await Promise.all(lent.map((c) => c.release()))
    }
    expect(await checkPool(pool)).toBeUndefined()
  })

  /** The dependency's status goes UP, DOWN once the server stops, and UP again once it is back. */
  async function expectDownAndBack(name: 'nats' | 'database', server: { stop(): Promise<void>; restart(): Promise<void> }, timeoutMs: number) {
    const status = async () => (await checkDependencies(checks(), timeoutMs)).dependencies[name]?.status
    expect(await status()).toBe('UP')
    await server.stop()
    await until(async () => (await status()) === 'DOWN', `${name} DOWN`)
    await server.restart()
    await until(async () => (await status()) === 'UP', `${name} UP`)
  }

  it('when NATS stops it is DOWN, and UP again once it is back, on the same connection', async () => {
    await expectDownAndBack('nats', nats, 500)
  })

  it('when MariaDB stops it is DOWN, and UP again once it is back, on the same pool', async () => {
    await expectDownAndBack('database', mariadb, 1_000)
  })
})
