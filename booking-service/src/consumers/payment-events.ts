import { SUBJECTS } from '@tickets/contracts/events'
import type { EventConsumer } from '@tickets/shared/nats'
import type { PaymentProtocol } from '../domain/payment-protocol.js'

/** Payment's outcomes applied to reservations; idempotent by event id (processed_events in the same transaction). */
export function paymentEventConsumers(protocol: PaymentProtocol): EventConsumer[] {
  return [
    {
      subject: SUBJECTS.PAYMENT_COMPLETED,
      async handle(event, { log }) {
        const result = await protocol.onPaymentCompleted(event.id, event.data)
        if (result === 'CONFIRMATION_FAILED') log.warn({ eventId: event.id, reservationId: event.data.reservationId }, 'paid reservation could not be confirmed')
      },
    },
    {
      subject: SUBJECTS.PAYMENT_REFUNDED,
      async handle(event) {
        await protocol.onPaymentRefunded(event.id, event.data)
      },
    },
  ]
}
