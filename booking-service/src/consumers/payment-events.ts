import { SUBJECTS } from '@tickets/contracts/events'
import type { EventConsumer } from '@tickets/shared/nats'
import type { PaymentProtocol } from '../domain/payment-protocol.js'

/** Waits until `settleMs` after `occurredAt` (never longer than settleMs, whatever the clocks say). */
function settled(occurredAt: string, settleMs: number): Promise<void> {
  const left = Math.min(settleMs, Date.parse(occurredAt) + settleMs - Date.now())
  return left > 0 ? new Promise((resolve) => setTimeout(resolve, left)) : Promise.resolve()
}

/**
 * Payment's outcomes applied to reservations; idempotent by event id (processed_events in the same
 * transaction). A completed payment is taken up `settleMs` after it occurred (PAYMENT_EVENT_SETTLE_MS):
 * it is the fallback for a CONFIRM that did not get through, and CONFIRM is sent at the same moment.
 */
export function paymentEventConsumers(protocol: PaymentProtocol, { settleMs }: { settleMs: number }): EventConsumer[] {
  return [
    {
      subject: SUBJECTS.PAYMENT_COMPLETED,
      async handle(event, { log }) {
        await settled(event.occurredAt, settleMs)
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
