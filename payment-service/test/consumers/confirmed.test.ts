import { randomUUID } from 'node:crypto'
import { anEnvelope, durableName, streamOf, SUBJECTS, type ReservationConfirmationFailed, type ReservationConfirmed } from '@tickets/contracts/events'
import { publishEvent } from '@tickets/shared/nats'
import { describe, expect, it } from 'vitest'
import { createMariadbPaymentStore } from '../../src/adapters/mariadb-payment-store.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { charge, waitFor } from '../helpers/payments.js'
import { fromGateway } from '@tickets/testkit'

const { app } = await buildTestApp(import.meta.url)
const store = createMariadbPaymentStore(app.pool)

/** A charged payment whose confirmation booking has not given yet (PENDING). */
async function aPendingPayment(userId: string, amount: number) {
  await charge(app, userId, amount, `topup-${randomUUID()}`)
  const data = { paymentId: randomUUID(), reservationId: randomUUID(), userId, concertId: 'c1', amount }
  expect((await store.completePayment({ payment: data, event: anEnvelope(SUBJECTS.PAYMENT_COMPLETED, data) })).ok).toBe(true)
  return data
}

function confirmed(p: { paymentId: string; reservationId: string; userId: string; amount: number }) {
  return anEnvelope<ReservationConfirmed>(SUBJECTS.RESERVATION_CONFIRMED, {
    reservationId: p.reservationId,
    userId: p.userId,
    concertId: 'c1',
    scheduleId: 's1',
    seatNumber: 1,
    paymentId: p.paymentId,
    price: p.amount,
    concertSoldOut: false,
  })
}

/** Every message on the confirmed consumer delivered and acknowledged. */
async function allHandled(): Promise<boolean> {
  const { nats } = app
  const info = await nats.jsm.consumers.info(
    nats.names.stream(streamOf(SUBJECTS.RESERVATION_CONFIRMED)),
    nats.names.durable(durableName('payment', SUBJECTS.RESERVATION_CONFIRMED)),
  )
  return info.num_pending === 0 && info.num_ack_pending === 0
}

async function paymentOf(userId: string, paymentId: string) {
  return (await app.inject(fromGateway({ method: 'GET', url: `/api/payments/${paymentId}`, headers: { 'x-user-id': userId } }))).json()
}

describe('booking.reservation.confirmed consumer', () => {
  it('when booking confirms a pending payment, then the payment reads CONFIRMED, and the same event again changes nothing', async () => {
    const p = await aPendingPayment('c1-fan', 20_000)
    expect(await paymentOf('c1-fan', p.paymentId)).toMatchObject({ status: 'COMPLETED', confirmation: 'PENDING' })
    const event = confirmed(p)
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMED, event)
    await waitFor('the confirmation', async () => (await paymentOf('c1-fan', p.paymentId)).confirmation === 'CONFIRMED')
    const [before] = await app.pool.query<{ updated_at: Date }[]>('SELECT updated_at FROM payments WHERE id = ?', [p.paymentId])

    // Past JetStream's de-duplication: the statement itself must leave a confirmed payment alone.
    await app.nats.js.publish(app.nats.names.subject(SUBJECTS.RESERVATION_CONFIRMED), JSON.stringify(event), { msgID: `${event.id}-again` })
    await waitFor('the second delivery to be handled', allHandled)
    const [after] = await app.pool.query<{ updated_at: Date }[]>('SELECT updated_at FROM payments WHERE id = ?', [p.paymentId])
    expect(after!.updated_at).toEqual(before!.updated_at)
    expect(await paymentOf('c1-fan', p.paymentId)).toMatchObject({ status: 'COMPLETED', confirmation: 'CONFIRMED' })
  })

  it('when a confirmation arrives after the payment was refunded, then the payment stays refunded and FAILED', async () => {
    const p = await aPendingPayment('c2-fan', 15_000)
    const failed = anEnvelope<ReservationConfirmationFailed>(SUBJECTS.RESERVATION_CONFIRMATION_FAILED, { ...p, reason: 'HOLD_EXPIRED' })
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMATION_FAILED, failed)
    await waitFor('the refund', async () => (await paymentOf('c2-fan', p.paymentId)).status === 'REFUNDED')
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMED, confirmed(p))
    await waitFor('the confirmation to be handled', allHandled)
    expect(await paymentOf('c2-fan', p.paymentId)).toMatchObject({ status: 'REFUNDED', confirmation: 'FAILED' })
  })
})
