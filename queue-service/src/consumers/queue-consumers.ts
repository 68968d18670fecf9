import { SUBJECTS, type PaymentCompleted, type ReservationConfirmed, type ReservationHeld, type ReservationReleased } from '@tickets/shared/events'
import { startConsumer, type RunningConsumer } from '@tickets/shared/nats'
import type { FastifyInstance } from 'fastify'
import type { InventoryKeeper } from '../domain/inventory-keeper.js'
import type { QueueService } from '../domain/queue-service.js'

/**
 * The waiting room's durable JetStream consumers (one durable per purpose, shared by every
 * instance). Each handler is idempotent: a redelivered or duplicate event changes nothing.
 * Redis trouble makes the handler throw, so the message is retried with back-off, not lost.
 */
export async function startQueueConsumers(app: FastifyInstance, queue: QueueService, inventory: InventoryKeeper): Promise<RunningConsumer[]> {
  const log = app.log.child({ component: 'queue-consumers' })
  return Promise.all([
    startConsumer(app.nats, {
      stream: 'PAYMENT_EVENTS',
      durable: 'queue-payment-completed',
      subject: SUBJECTS.PAYMENT_COMPLETED,
      log,
      metrics: app.metrics,
      async handle(event) {
        const data = event.data as PaymentCompleted
        const outcome = await queue.paymentCompleted({ eventId: event.id, userId: data.userId, concertId: data.concertId })
        log.debug({ eventId: event.id, concertId: data.concertId, outcome }, 'payment completed applied')
      },
    }),
    startConsumer(app.nats, {
      stream: 'BOOKING_EVENTS',
      durable: 'queue-reservation-held',
      subject: SUBJECTS.RESERVATION_HELD,
      log,
      metrics: app.metrics,
      async handle(event) {
        const data = event.data as ReservationHeld
        await inventory.held({ ...data, occurredAt: event.occurredAt })
      },
    }),
    startConsumer(app.nats, {
      stream: 'BOOKING_EVENTS',
      durable: 'queue-reservation-confirmed',
      subject: SUBJECTS.RESERVATION_CONFIRMED,
      log,
      metrics: app.metrics,
      async handle(event) {
        const data = event.data as ReservationConfirmed
        await inventory.ended({ concertId: data.concertId, reservationId: data.reservationId, how: 'CONFIRMED', occurredAt: event.occurredAt })
        if (data.concertSoldOut) await queue.soldOutChanged({ concertId: data.concertId, soldOut: true, occurredAt: event.occurredAt })
      },
    }),
    startConsumer(app.nats, {
      stream: 'BOOKING_EVENTS',
      durable: 'queue-reservation-released',
      subject: SUBJECTS.RESERVATION_RELEASED,
      log,
      metrics: app.metrics,
      async handle(event) {
        const data = event.data as ReservationReleased
        const how = data.reason === 'REFUNDED' ? 'REFUNDED' : 'RELEASED'
        await inventory.ended({ concertId: data.concertId, reservationId: data.reservationId, how, occurredAt: event.occurredAt })
        // A seat is free again: if the line was closed as sold out, it reopens.
        await queue.soldOutChanged({ concertId: data.concertId, soldOut: false, occurredAt: event.occurredAt })
      },
    }),
  ])
}
