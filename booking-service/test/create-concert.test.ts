import { describe, expect, it } from 'vitest'
import { createConcert } from '../src/ops.js'
import { buildTestApp } from './helpers/build-test-app.js'
import { fromGateway } from '@tickets/testkit'

const { app, url } = await buildTestApp(import.meta.url)

describe('npm run ops -- concert:create', () => {
  it('puts a new concert on sale now: fresh ids, every seat of every date available, booking open from now', async () => {
    const now = new Date()
    const made = await createConcert(url, { title: 'Rehearsal', dates: 3, seatsPerSchedule: 20, now })
    expect(made.scheduleIds).toHaveLength(3)
    expect(made.seats).toBe(60)
    const res = await app.inject(fromGateway({ method: 'GET', url: `/api/concerts/${made.concertId}/schedules` }))
    expect(res.statusCode).toBe(200)
    const { schedules } = res.json()
    expect(schedules.map((s: { scheduleId: string }) => s.scheduleId).sort()).toEqual([...made.scheduleIds].sort())
    for (const s of schedules) expect(s).toMatchObject({ totalSeats: 20, availableSeats: 20, bookingOpensAt: now.toISOString() })
    const again = await createConcert(url, { title: 'Rehearsal' })
    expect(again.concertId).not.toBe(made.concertId)
  })
})
