import Fastify from 'fastify'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { metricsPlugin } from '../src/metrics.js'
import { prismaPoolPlugin } from '../src/prisma-pool.js'
import { freePort, startDelayProxy, type DelayProxy } from '@tickets/testkit'

// Latency on a hop of this file's own: the shared MariaDB is neither stopped nor paused.
let link: DelayProxy
beforeAll(async () => {
  link = await startDelayProxy({ host: '127.0.0.1', port: 3306 })
})
afterAll(async () => {
  await link?.close()
})

/** A service's start as far as its database: the db plugin on `url`, with a client that is never used. */
async function startService(url: string, settings: { poolSize: number; acquireTimeoutMs: number }) {
  const app = Fastify()
  await app.register(metricsPlugin, { service: 'pool-fill-test', defaultMetrics: false })
  const started = performance.now()
  await app.register(
    prismaPoolPlugin(() => ({ $disconnect: async () => undefined })),
    { url, ...settings },
  )
  await app.ready()
  return { app, startMs: performance.now() - started }
}

it('when a service starts on a link 30 ms slow, then it takes work only once its pool holds every connection', async () => {
  link.setDelay(30)
  const { app } = await startService(`mysql://root@127.0.0.1:${link.port}/mysql`, { poolSize: 4, acquireTimeoutMs: 3_000 })
  try {
    expect(app.pool.totalConnections()).toBe(4)
    // Four callers at once are each served on a connection of their own: no connection is made meanwhile.
    let made = 0
    app.pool.on('connection', () => made++)
    await Promise.all(Array.from({ length: 4 }, () => app.pool.query('SELECT 1')))
    expect(made).toBe(0)
    expect(app.pool.totalConnections()).toBe(4)
  } finally {
    await app.close()
    link.setDelay(0)
  }
}, 30_000)

it('when the database takes no connection at all, then the service starts after the acquire timeout, with none', async () => {
  const { app, startMs } = await startService(`mysql://root@127.0.0.1:${await freePort()}/mysql`, { poolSize: 4, acquireTimeoutMs: 500 })
  try {
    expect(app.pool.totalConnections()).toBe(0)
    expect(startMs).toBeGreaterThanOrEqual(450)
    expect(startMs).toBeLessThan(1_500)
  } finally {
    await app.close()
  }
}, 30_000)
