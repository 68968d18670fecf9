import { SUBJECTS } from '@tickets/contracts/events'
import type { EventConsumer } from '@tickets/shared/nats'
import type { InventoryKeeper } from '../domain/inventory-keeper.js'
import type { QueueService } from '../domain/queue-service.js'

/**
 * The waiting room's durable JetStream consumers (one durable per purpose, shared by every
 * instance). Each handler is idempotent: a redelivered or duplicate event changes nothing.
 * Redis trouble makes the handler throw, so the message is retried with back-off, not lost.
 */
export function queueConsumers(opts: { queue: QueueService; inventory: InventoryKeeper }): EventConsumer[] {
  const { queue, inventory } = opts
  return [
    {
      subject: SUBJECTS.PAYMENT_COMPLETED,
      async handle(event, { log }) {
        const { userId, concertId } = event.data
        const outcome = await queue.paymentCompleted({ eventId: event.id, userId, concertId })
        log.debug({ eventId: event.id, concertId, outcome }, 'payment completed applied')
      },
    },
    {
      subject: SUBJECTS.RESERVATION_HELD,
      async handle(event) {
        await inventory.held({ ...event.data, occurredAt: event.occurredAt })
      },
    },
    {
      subject: SUBJECTS.RESERVATION_CONFIRMED,
      async handle(event) {
        const data = event.data
        await inventory.ended({ concertId: data.concertId, reservationId: data.reservationId, how: 'CONFIRMED', occurredAt: event.occurredAt })
        if (data.concertSoldOut) await queue.soldOutChanged({ concertId: data.concertId, soldOut: true, occurredAt: event.occurredAt })
      },
    },
    {
      subject: SUBJECTS.RESERVATION_RELEASED,
      async handle(event) {
        const data = event.data
        const how = data.reason === 'REFUNDED' ? 'REFUNDED' : 'RELEASED'
        await inventory.ended({ concertId: data.concertId, reservationId: data.reservationId, how, occurredAt: event.occurredAt })
        // A seat is free again: if the line was closed as sold out, it reopens.
        await queue.soldOutChanged({ concertId: data.concertId, soldOut: false, occurredAt: event.occurredAt })
      },
    },
  ]
}
