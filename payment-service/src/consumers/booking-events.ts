import { SUBJECTS } from '@tickets/contracts/events'
import type { EventConsumer } from '@tickets/shared/nats'
import type { PaymentService } from '../domain/payment-service.js'

/**
 * These consumers' durables' names before the `<service>-<entity>-<event>` convention. The refunds'
 * processed_events rows are still written under theirs, so that a message handled before the rename
 * and delivered again after it is still recognised.
 */
export const REFUND_PROCESSED_KEY = 'payment_refunds'
export const CONFIRMATION_PROCESSED_KEY = 'payment_confirmations'

/**
 * Booking's verdicts on payments: confirmation_failed refunds (the refund and its processed-event row
 * commit together), confirmed records the confirmation (one statement that a redelivery repeats to
 * no effect). Either way a redelivery changes nothing.
 */
export function bookingEventConsumers(opts: { payments: PaymentService; ackWaitMs: number }): EventConsumer[] {
  const { payments, ackWaitMs } = opts
  return [
    {
      subject: SUBJECTS.RESERVATION_CONFIRMATION_FAILED,
      formerDurables: [REFUND_PROCESSED_KEY],
      ackWaitMs,
      async handle(event, { log }) {
        const { paymentId, reason } = event.data
        const result = await payments.refundUnconfirmed({ paymentId, reason, processed: { consumer: REFUND_PROCESSED_KEY, eventId: event.id } })
        if (result.outcome === 'NO_SUCH_PAYMENT') log.warn({ eventId: event.id, paymentId }, 'confirmation failed for a payment that never committed')
        else log.info({ eventId: event.id, paymentId, outcome: result.outcome }, 'confirmation failure handled')
      },
    },
    {
      subject: SUBJECTS.RESERVATION_CONFIRMED,
      formerDurables: [CONFIRMATION_PROCESSED_KEY],
      ackWaitMs,
      async handle(event) {
        await payments.markConfirmed(event.data.paymentId)
      },
    },
  ]
}
