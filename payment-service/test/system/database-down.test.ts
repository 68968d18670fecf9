import { FAST_503, fast503Shape, isolation, startServiceOnThrowawayDatabase, startThrowawayMariadb, type TimedAnswer } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/ops.js'

// The service as it runs (its own process: the driver's stray rejections on a lost server are
// handled as in production) on a private MariaDB (tickets-throwaway) that this file stops and pauses.
const iso = isolation(import.meta.url)
const mariadb = await startThrowawayMariadb()
const url = `${mariadb.url}/tickets_payment`
await migrate(url)
const service = await startServiceOnThrowawayDatabase(new URL('../../dist/server.js', import.meta.url), mariadb, url, iso)
afterAll(() => service.dispose())
const call = service.call
const balance = () => call('/api/points', { headers: { 'x-user-id': 'u1' } })
const charge = (key: string) =>
  call('/api/points/charge', {
    method: 'POST',
    headers: { 'x-user-id': 'u1', 'idempotency-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 1_000 }),
  })

function expectFast503(a: TimedAnswer) {
  expect(fast503Shape(a, 1_300), JSON.stringify(a)).toEqual(FAST_503)
}

describe('payment-service without its database', () => {
  it('when MariaDB is stopped, then the balance and a charge are a 503 with Retry-After, and work once it is back', async () => {
    expect((await charge('before')).status).toBe(200)
    await mariadb.stop()
    try {
      expectFast503(await balance())
      expectFast503(await charge('while-stopped'))
    } finally {
      await mariadb.restart()
    }
    await expect.poll(async () => (await balance()).status, { timeout: 10_000, interval: 200 }).toBe(200)
    expect((await charge('after')).status).toBe(200)
  })

  it('when MariaDB is paused, then the balance and a charge are a 503 within ~1 s', async () => {
    await mariadb.pause()
    try {
      expectFast503(await balance())
      expectFast503(await charge('while-paused'))
    } finally {
      mariadb.resume()
    }
    await expect.poll(async () => (await balance()).status, { timeout: 10_000, interval: 200 }).toBe(200)
    expect(service.child.exitCode).toBeNull()
  })
})
