import { describe, expect, it } from 'vitest'
import { aConcert, hold } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'

// Holds read a schedule's opening time and prices from memory; a change made in the database must
// reach them within SCHEDULE_INFO_TTL_MS, here short.
const { app } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '0', SCHEDULE_INFO_TTL_MS: '200' })

describe('a schedule changed in the database while booking runs', () => {
  it('when the opening is postponed, then holds are refused with BOOKING_NOT_OPEN once the cached copy is older than the TTL', async () => {
    const { scheduleId } = await aConcert(app)
    expect((await hold(app, 'early', scheduleId, 1)).statusCode).toBe(201)
    await app.db.schedule.update({ where: { id: scheduleId }, data: { bookingOpensAt: new Date(Date.now() + 3_600_000) } })
    let seat = 2
    await expect.poll(async () => (await hold(app, `fan-${seat}`, scheduleId, seat++)).json().code, { timeout: 5_000, interval: 50 }).toBe('BOOKING_NOT_OPEN')
  })

  it('when a price is corrected, then new holds charge the new price', async () => {
    const { scheduleId } = await aConcert(app, { price: 100_000 })
    expect((await hold(app, 'first', scheduleId, 1)).json().price).toBe(100_000)
    await app.db.seat.updateMany({ where: { scheduleId }, data: { price: 90_000 } })
    let seat = 2
    await expect.poll(async () => (await hold(app, `fan-${seat}`, scheduleId, seat++)).json().price, { timeout: 5_000, interval: 50 }).toBe(90_000)
  })
})
