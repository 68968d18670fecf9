import { randomUUID } from 'node:crypto'
import { anEnvelope, durableName, SUBJECTS, type Envelope, type ReservationConfirmationFailed } from '@tickets/contracts/events'
import { createPool } from '@tickets/shared/mysql'
import { connectNats, publishEvent, startConsumer } from '@tickets/shared/nats'
import { describe, expect, it } from 'vitest'
import { createMariadbPaymentStore } from '../../src/adapters/mariadb-payment-store.js'
import { REFUND_PROCESSED_KEY } from '../../src/consumers/booking-events.js'
import { createPaymentService } from '../../src/domain/payment-service.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { balanceOf, charge, ledgerEntries, ledgerSum, metricValue, waitFor } from '../helpers/payments.js'
import { fromGateway } from '@tickets/testkit'

const { app, config, anotherInstance } = await buildTestApp(import.meta.url, { CONSUMER_ACK_WAIT_MS: '1000' })
const store = createMariadbPaymentStore(app.pool)
const REFUND_DURABLE = durableName('payment', SUBJECTS.RESERVATION_CONFIRMATION_FAILED)

/** A payment that charged and stands (as after a payment whose confirmation did not get through). */
async function aStandingPayment(userId: string, amount: number) {
  await charge(app, userId, amount, `topup-${randomUUID()}`)
  const paymentId = randomUUID()
  const reservationId = randomUUID()
  const data = { paymentId, reservationId, userId, concertId: 'c1', amount }
  const result = await store.completePayment({ payment: data, event: anEnvelope(SUBJECTS.PAYMENT_COMPLETED, data) })
  expect(result.ok).toBe(true)
  return { paymentId, reservationId }
}

function confirmationFailed(p: { paymentId: string; reservationId: string }, userId: string) {
  return anEnvelope<ReservationConfirmationFailed>(SUBJECTS.RESERVATION_CONFIRMATION_FAILED, { ...p, userId, reason: 'HOLD_EXPIRED' })
}

async function paymentRow(paymentId: string) {
  return (await app.inject(fromGateway({ method: 'GET', url: `/api/payments/${paymentId}`, headers: { 'x-user-id': 'f1' } }))).json()
}

async function refundedEvents(paymentId: string): Promise<number> {
  const rows = await app.pool.query<{ payload: string }[]>('SELECT payload FROM outbox_events WHERE subject = ?', [SUBJECTS.PAYMENT_REFUNDED])
  return rows.filter((r) => (JSON.parse(r.payload) as Envelope<{ paymentId: string }>).data.paymentId === paymentId).length
}

describe('booking.reservation.confirmation_failed consumer', () => {
  it('when booking cannot confirm a paid reservation, then the payment is refunded, credited and announced', async () => {
    const p = await aStandingPayment('f1', 30_000)
    expect(await balanceOf(app, 'f1')).toBe(0)
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMATION_FAILED, confirmationFailed(p, 'f1'))
    await waitFor('the refund', async () => (await paymentRow(p.paymentId)).status === 'REFUNDED')
    expect(await paymentRow(p.paymentId)).toMatchObject({ status: 'REFUNDED', confirmation: 'FAILED' })
    expect(await balanceOf(app, 'f1')).toBe(30_000)
    expect(await ledgerEntries(app, 'f1', 'REFUND')).toBe(1)
    expect(await ledgerSum(app, 'f1')).toBe(30_000)
    expect(await refundedEvents(p.paymentId)).toBe(1)
    expect(await metricValue(app, 'payment_refunds_total', { source: 'confirmation_failed_event' })).toBeGreaterThanOrEqual(1)
    // The reservation has no standing payment any more.
    expect((await store.findEarlierAndStanding(p.paymentId, p.reservationId)).standing).toBeNull()
  })

  it('when the same event arrives twice (a new msgID, as after a relay retry past the window), then it refunds once', async () => {
    const p = await aStandingPayment('f2', 10_000)
    const event = confirmationFailed(p, 'f2')
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMATION_FAILED, event)
    // Bypasses JetStream's de-duplication on purpose: the consumer itself must not apply it twice.
    await app.nats.js.publish(app.nats.names.subject(SUBJECTS.RESERVATION_CONFIRMATION_FAILED), JSON.stringify(event), { msgID: `${event.id}-again` })
    await waitFor('the refund', async () => (await balanceOf(app, 'f2')) === 10_000)
    await new Promise((r) => setTimeout(r, 500))
    expect(await balanceOf(app, 'f2')).toBe(10_000)
    expect(await ledgerEntries(app, 'f2', 'REFUND')).toBe(1)
    expect(await refundedEvents(p.paymentId)).toBe(1)
  })

  it('when a message is not a valid event, then it is parked with the reason and the consumer goes on', async () => {
    await app.nats.js.publish(app.nats.names.subject(SUBJECTS.RESERVATION_CONFIRMATION_FAILED), JSON.stringify({ id: 'bad-1', data: { nonsense: true } }), { msgID: 'bad-1' })
    const dlq = app.nats.names.stream('DEAD_LETTERS')
    const parked = await waitFor('the parked message', async () => {
      try {
        return await app.nats.jsm.streams.getMessage(dlq, { last_by_subj: app.nats.names.subject(`deadletter.${REFUND_DURABLE}`) })
      } catch {
        return undefined
      }
    })
    expect(parked.header.get('x-parked-reason')).toContain('does not match')
    const p = await aStandingPayment('f3', 5_000)
    await publishEvent(app.nats, SUBJECTS.RESERVATION_CONFIRMATION_FAILED, confirmationFailed(p, 'f3'))
    await waitFor('the next refund', async () => (await balanceOf(app, 'f3')) === 5_000)
  })

  it('when the consumer dies after its effect and before its ack, then the redelivery changes nothing', async () => {
    const p = await aStandingPayment('f4', 40_000)
    // Stop this file's own consumer: the instance below is the only one on the durable.
    await app.close()

    // An instance whose refund consumer applies the effect (committed) and dies before acking.
    const pool = createPool({ url: config.MYSQL_URL, connectionLimit: 2, acquireTimeoutMs: 5_000 })
    const bus = await connectNats({ url: config.NATS_URL, name: 'dying', namespace: config.NATS_NAMESPACE })
    const effects = createPaymentService({
      payments: createMariadbPaymentStore(pool),
      booking: { beginPayment: never, confirmPayment: never, abortPayment: never },
      events: { kick: () => undefined },
      metrics: { outcome: () => undefined, refunded: () => undefined },
      log: app.log,
    })
    let applied = false
    await startConsumer(
      { bus, service: 'payment', log: app.log },
      {
        subject: SUBJECTS.RESERVATION_CONFIRMATION_FAILED,
        ackWaitMs: 1_000,
        async handle(event) {
          await effects.refundUnconfirmed({ paymentId: p.paymentId, reason: 'HOLD_EXPIRED', processed: { consumer: REFUND_PROCESSED_KEY, eventId: event.id } })
          applied = true
          await new Promise(() => undefined)
        },
      },
    )
    await publishEvent(bus, SUBJECTS.RESERVATION_CONFIRMATION_FAILED, confirmationFailed(p, 'f4'))
    await waitFor('the first effect', async () => applied)
    await bus.nc.close()
    await pool.end()

    // The instance that takes over gets the message again once the ack wait has run out.
    const survivor = await anotherInstance()
    await waitFor('the redelivery', async () => (await metricValue(survivor, 'nats_consumer_redeliveries_total', { consumer: REFUND_DURABLE })) >= 1, 15_000)
    await new Promise((r) => setTimeout(r, 200))
    expect(await walletOf(survivor, 'f4')).toBe(40_000)
    const [refunds] = await survivor.pool.query<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM ledger_entries WHERE user_id = 'f4' AND kind = 'REFUND'")
    expect(Number(refunds!.n)).toBe(1)
    const outbox = await survivor.pool.query<{ payload: string }[]>('SELECT payload FROM outbox_events WHERE subject = ?', [SUBJECTS.PAYMENT_REFUNDED])
    expect(outbox.filter((r) => r.payload.includes(p.paymentId))).toHaveLength(1)
    const [processed] = await survivor.pool.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM processed_events WHERE consumer = ?', [REFUND_PROCESSED_KEY])
    expect(Number(processed!.n)).toBeGreaterThanOrEqual(1)
  }, 30_000)
})

function never(): Promise<never> {
  throw new Error('not used by the consumer')
}

async function walletOf(instance: typeof app, userId: string): Promise<number> {
  const [row] = await instance.pool.query<{ balance: bigint }[]>('SELECT balance FROM wallets WHERE user_id = ?', [userId])
  return Number(row?.balance ?? 0n)
}
