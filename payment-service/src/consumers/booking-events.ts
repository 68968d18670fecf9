import { SUBJECTS, type ReservationConfirmationFailed, type ReservationConfirmed } from '@tickets/shared/events'
import { startConsumer, type RunningConsumer } from '@tickets/shared/nats'
import type { FastifyInstance } from 'fastify'
import type { PaymentService } from '../domain/payment-service.js'

export const REFUND_CONSUMER = 'payment_refunds'
export const CONFIRMED_CONSUMER = 'payment_confirmations'

/**
 * Booking's verdicts on payments: confirmation_failed refunds, confirmed records the confirmation.
 * Each effect and its processed-event row commit together, so a redelivery changes nothing.
 */
export async function bookingEventConsumers(app: FastifyInstance, opts: { payments: PaymentService; ackWaitMs: number }) {
  const { payments } = opts
  const running: RunningConsumer[] = []
  const log = app.log.child({ component: 'booking-event-consumers' })

  running.push(
    await startConsumer(app.nats, {
      stream: 'BOOKING_EVENTS',
      durable: REFUND_CONSUMER,
      subject: SUBJECTS.RESERVATION_CONFIRMATION_FAILED,
      ackWaitMs: opts.ackWaitMs,
      log,
      metrics: app.metrics,
      async handle(event) {
        const data = event.data as ReservationConfirmationFailed
        const result = await payments.refundUnconfirmed({ paymentId: data.paymentId, reason: data.reason, processed: { consumer: REFUND_CONSUMER, eventId: event.id } })
        if (result.outcome === 'NO_SUCH_PAYMENT') log.warn({ eventId: event.id, paymentId: data.paymentId }, 'confirmation failed for a payment that never committed')
        else log.info({ eventId: event.id, paymentId: data.paymentId, outcome: result.outcome }, 'confirmation failure handled')
      },
    }),
  )
  running.push(
    await startConsumer(app.nats, {
      stream: 'BOOKING_EVENTS',
      durable: CONFIRMED_CONSUMER,
      subject: SUBJECTS.RESERVATION_CONFIRMED,
      ackWaitMs: opts.ackWaitMs,
      log,
      metrics: app.metrics,
      async handle(event) {
        const data = event.data as ReservationConfirmed
        await payments.markConfirmed({ paymentId: data.paymentId, processed: { consumer: CONFIRMED_CONSUMER, eventId: event.id } })
      },
    }),
  )
  app.addHook('preClose', async () => {
    await Promise.all(running.map((c) => c.stop()))
  })
}
