import { FAST_503, fast503Shape, isolation, startServiceOnThrowawayDatabase, startThrowawayMariadb, type TimedAnswer } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate, seedDemoCatalogue } from '../../src/ops.js'

// The service as it runs (its own process, so the driver's stray rejections on a lost server are
// handled as in production) on a private MariaDB (tickets-throwaway) that this file pauses with
// SIGSTOP, a server that accepts connections and answers nothing, and stops.
const iso = isolation(import.meta.url)
const mariadb = await startThrowawayMariadb()
const url = `${mariadb.url}/tickets_booking`
await migrate(url)
await seedDemoCatalogue(url, { seatsPerSchedule: 20 })
// A connection used in the last 200 ms is lent without a ping: then the statement deadline
// (MYSQL_STATEMENT_TIMEOUT_MS + 250 ms) ends the wait; otherwise the acquire timeout (1 s) does.
const service = await startServiceOnThrowawayDatabase(new URL('../../dist/server.js', import.meta.url), mariadb, url, iso)
afterAll(() => service.dispose())
const call = service.call

const hold = (user: string, scheduleId: string, seatNumber: number) =>
  call('/api/reservations', { method: 'POST', headers: { 'x-user-id': user, 'content-type': 'application/json' }, body: JSON.stringify({ scheduleId, seatNumber }) })

function expectFast503(a: TimedAnswer) {
  expect(fast503Shape(a, 1_300), JSON.stringify(a)).toEqual(FAST_503)
}

const concert = ((await call('/api/concerts')).body as unknown as { concerts: { concertId: string }[] }).concerts[0]!.concertId
const schedules = (await call(`/api/concerts/${concert}/schedules`)).body as unknown as { schedules: { scheduleId: string }[] }
const scheduleId = schedules.schedules[0]!.scheduleId

describe('booking-service while MariaDB is paused or stopped', () => {
  it('when the database answers nothing, then dates, seat map and holds are a prompt 503, never a 500, until it answers', async () => {
    expect((await hold('before', scheduleId, 1)).status).toBe(201)
    // Longer than the availability cache (800 ms): the dates then need the database.
    await new Promise((r) => setTimeout(r, 900))
    await mariadb.pause()
    try {
      expectFast503(await call(`/api/concerts/${concert}/schedules`))
      expectFast503(await hold('paused-1', scheduleId, 2))
      expectFast503(await call(`/api/concerts/${concert}/schedules/${scheduleId}/seats`))
      expectFast503(await hold('paused-2', scheduleId, 3))
      for (const a of await Promise.all(Array.from({ length: 12 }, (_, i) => hold(`paused-${i + 3}`, scheduleId, 4)))) expectFast503(a)
    } finally {
      mariadb.resume()
    }
    await expect.poll(async () => (await hold('after', scheduleId, 5)).status, { timeout: 10_000, interval: 200 }).toBe(201)
    expect((await call(`/api/concerts/${concert}/schedules`)).status).toBe(200)
  })

  it('when the database is stopped, then a hold is a 503 with Retry-After at once', async () => {
    await mariadb.stop()
    try {
      expectFast503(await hold('stopped', scheduleId, 6))
    } finally {
      await mariadb.restart()
    }
    await expect.poll(async () => (await hold('restarted', scheduleId, 7)).status, { timeout: 10_000, interval: 200 }).toBe(201)
    expect(service.child.exitCode).toBeNull()
  })
})
