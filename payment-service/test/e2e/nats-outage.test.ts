import { startThrowawayNats, fromGateway } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { balanceOf, charge, ledgerSum, lockWallet, pay, waitFor } from '../helpers/payments.js'
import { aConcert, aHold, buildBookingAndPayment, reservationStatus, seatStatus } from '../helpers/with-booking.js'

const nats = await startThrowawayNats()
afterAll(() => nats.dispose())
const { app, booking, url } = await buildBookingAndPayment(import.meta.url, {
  payment: { NATS_URL: nats.url, BOOKING_RPC_TIMEOUT_MS: '1000' },
  booking: { NATS_URL: nats.url },
})
const { scheduleId } = await aConcert(booking, { seats: 4, price: 50_000 })

describe('NATS stops in the middle of paying', () => {
  it('when NATS goes away after BEGIN, then the payment commits (PENDING) and booking confirms once NATS is back', async () => {
    await charge(app, 'o1', 120_000, 'topup')
    const { reservationId } = await aHold(booking, 'o1', scheduleId, 1)
    const other = await aHold(booking, 'o2', scheduleId, 2)
    await charge(app, 'o2', 50_000, 'topup')

    // Hold the wallet row so that the payment stops between BEGIN and its transaction.
    const wallet = await lockWallet(url, 'o1')
    const paying = pay(app, 'o1', reservationId, 'mid-outage')
    await waitFor('BEGIN to reach booking', async () => (await reservationStatus(booking, reservationId)) === 'PAYING')
    await nats.stop()
    await wallet.release()

    const res = await paying
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ reservationId, status: 'COMPLETED', confirmation: 'PENDING', amount: 50_000 })
    expect(await balanceOf(app, 'o1')).toBe(70_000)
    expect(await reservationStatus(booking, reservationId)).toBe('PAYING')

    // While NATS is down a new payment cannot begin: nothing is charged.
    const refused = await pay(app, 'o2', other.reservationId, 'during-outage')
    expect(refused.statusCode).toBe(503)
    expect(refused.json().code).toBe('PAYMENT_BOOKING_UNAVAILABLE')
    expect(await balanceOf(app, 'o2')).toBe(50_000)

    await nats.restart()
    await waitFor('booking to confirm from payment.payment.completed', async () => (await reservationStatus(booking, reservationId)) === 'CONFIRMED', 30_000)
    expect(await seatStatus(booking, scheduleId, 1)).toBe('SOLD')
    await waitFor(
      'payment to learn of the confirmation',
      async () => {
        const got = await app.inject(fromGateway({ method: 'GET', url: `/api/payments/${body.paymentId}`, headers: { 'x-user-id': 'o1' } }))
        return got.json().confirmation === 'CONFIRMED'
      },
      30_000,
    )
    expect(await balanceOf(app, 'o1')).toBe(70_000)
    expect(await ledgerSum(app, 'o1')).toBe(70_000)

    // The refused payment works once NATS is back, with the same key.
    const retried = await pay(app, 'o2', other.reservationId, 'during-outage')
    expect(retried.statusCode).toBe(201)
    expect(retried.json().confirmation).toBe('CONFIRMED')
    expect(await balanceOf(app, 'o2')).toBe(0)
  }, 60_000)
})
