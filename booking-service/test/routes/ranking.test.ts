import { anEnvelope, SUBJECTS, type PaymentRefunded } from '@tickets/contracts/events'
import { publishEvent } from '@tickets/shared/nats'
import { describe, expect, it } from 'vitest'
import { aClock, aConcert, hold } from '../helpers/factories.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { rpc } from '../helpers/rpc.js'
import { fromGateway } from '@tickets/testkit'

const clock = aClock()
const { app } = await buildTestApp(import.meta.url, { SWEEP_INTERVAL_MS: '0' }, { clock })

async function sellOut(seats: number, afterSeconds: number) {
  const { concertId, scheduleId } = await aConcert(app, { seats, opensAt: new Date(clock.now().getTime() - afterSeconds * 1000) })
  const ids: string[] = []
  for (let n = 1; n <= seats; n++) {
    const { reservationId } = (await hold(app, `fan${n}`, scheduleId, n)).json()
    await rpc(app, 'BEGIN_PAYMENT', { reservationId, userId: `fan${n}`, paymentId: `${concertId}-${n}` })
    await rpc(app, 'CONFIRM_PAYMENT', { reservationId, userId: `fan${n}`, paymentId: `${concertId}-${n}` })
    ids.push(reservationId)
  }
  return { concertId, ids }
}

const ranking = async () => {
  const res = await app.inject(fromGateway({ method: 'GET', url: '/api/concerts/ranking' }))
  expect(res.statusCode).toBe(200)
  return res.json().ranking as { rank: number; concertId: string; sellOutSeconds: number }[]
}

describe('GET /api/concerts/ranking', () => {
  it('when concerts sell out, then the fastest comes first; a refund takes a concert off the board', async () => {
    const slow = await sellOut(2, 600)
    const fast = await sellOut(2, 30)
    await aConcert(app, { seats: 2 })
    await expect.poll(async () => (await ranking()).map((r) => r.concertId), { timeout: 5_000 }).toEqual([fast.concertId, slow.concertId])
    expect((await ranking())[0]).toMatchObject({ rank: 1, sellOutSeconds: 30, title: expect.stringContaining('Concert') })

    await publishEvent(
      app.nats,
      SUBJECTS.PAYMENT_REFUNDED,
      anEnvelope<PaymentRefunded>(SUBJECTS.PAYMENT_REFUNDED, { paymentId: `${fast.concertId}-1`, reservationId: fast.ids[0]!, userId: 'fan1', amount: 1, reason: 'test' }),
    )
    await expect.poll(async () => (await ranking()).map((r) => r.concertId), { timeout: 5_000 }).toEqual([slow.concertId])
  })

  it('when a reservation event is poison or comes twice, then it is parked or changes nothing', async () => {
    const { concertId } = await sellOut(1, 45)
    await expect.poll(async () => (await ranking()).some((r) => r.concertId === concertId), { timeout: 5_000 }).toBe(true)
    const subject = app.nats.names.subject(SUBJECTS.RESERVATION_CONFIRMED)
    await app.nats.js.publish(subject, '{"id": "x", "data": 1}', { msgID: `poison-${concertId}` })
    const duplicate = anEnvelope(SUBJECTS.RESERVATION_CONFIRMED, {
      reservationId: 'r',
      userId: 'u',
      concertId,
      scheduleId: 's',
      seatNumber: 1,
      paymentId: 'p',
      price: 1,
      concertSoldOut: true,
    })
    await app.nats.js.publish(subject, JSON.stringify(duplicate), { msgID: `${duplicate.id}-1` })
    await app.nats.js.publish(subject, JSON.stringify(duplicate), { msgID: `${duplicate.id}-2` })
    await expect.poll(async () => (await app.nats.jsm.streams.info(app.nats.names.stream('DEAD_LETTERS'))).state.messages, { timeout: 5_000 }).toBeGreaterThanOrEqual(1)
    const entry = (await ranking()).filter((r) => r.concertId === concertId)
    expect(entry).toHaveLength(1)
    expect(entry[0]!.sellOutSeconds).toBe(45)
  })

  it('when the limit is out of range, then 400', async () => {
    expect((await app.inject(fromGateway({ method: 'GET', url: '/api/concerts/ranking?limit=0' }))).statusCode).toBe(400)
  })
})
