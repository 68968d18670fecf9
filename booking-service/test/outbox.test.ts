import { SUBJECTS } from '@tickets/contracts/events'
import { startThrowawayNats } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { aConcert, hold } from './helpers/factories.js'
import { buildTestApp } from './helpers/build-test-app.js'

const nats = await startThrowawayNats()
afterAll(() => nats.dispose())
const { app } = await buildTestApp(import.meta.url, { NATS_URL: nats.url, SWEEP_INTERVAL_MS: '0' })
const stream = app.nats.names.stream('BOOKING_EVENTS')
const messages = async () => Number((await app.nats.jsm.streams.info(stream)).state.messages)
const pending = () => app.db.outboxEvent.count({ where: { publishedAt: null } })

describe('the transactional outbox', () => {
  it('when NATS is down, then holds still succeed and their events are published once it is back', async () => {
    const { scheduleId } = await aConcert(app)
    expect((await hold(app, 'a', scheduleId, 1)).statusCode).toBe(201)
    await expect.poll(messages, { timeout: 5_000 }).toBe(1)

    await nats.stop()
    const res = await hold(app, 'b', scheduleId, 2)
    expect(res.statusCode).toBe(201)
    await new Promise((r) => setTimeout(r, 500))
    expect(await pending()).toBe(1)
    await expect
      .poll(async () => (await app.admin.inject({ method: 'GET', url: '/health/dependencies' })).json().dependencies.nats.status, { timeout: 5_000, interval: 200 })
      .toBe('DOWN')

    await nats.restart()
    await expect.poll(pending, { timeout: 15_000, interval: 200 }).toBe(0)
    expect(await messages()).toBe(2)
    const last = await app.nats.jsm.streams.getMessage(stream, { last_by_subj: app.nats.names.subject(SUBJECTS.RESERVATION_HELD) })
    expect(last.json<{ data: { reservationId: string } }>().data.reservationId).toBe(res.json().reservationId)
  })

  it('when the relay publishes a row again (a crash between publish and mark), then JetStream keeps one copy', async () => {
    const before = await messages()
    const row = await app.db.outboxEvent.findFirstOrThrow({ orderBy: { createdAt: 'desc' } })
    await app.db.outboxEvent.update({ where: { id: row.id }, data: { publishedAt: null } })
    await expect.poll(pending, { timeout: 5_000 }).toBe(0)
    expect(await messages()).toBe(before)
  })
})
