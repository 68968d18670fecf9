import { SUBJECTS, type PaymentCompleted, type PaymentRefunded } from '@tickets/shared/events'
import { startConsumer, type NatsBus, type RunningConsumer } from '@tickets/shared/nats'
import type { FastifyBaseLogger } from 'fastify'
import type { Registry } from 'prom-client'
import { COMPLETED_CONSUMER, REFUNDED_CONSUMER, type PaymentProtocol } from '../domain/payment-protocol.js'

/** Durable consumers of payment events; idempotent by event id (processed_events in the same transaction). */
export async function startPaymentEventConsumers(bus: NatsBus, protocol: PaymentProtocol, log: FastifyBaseLogger, metrics?: Registry): Promise<RunningConsumer[]> {
  const completed = await startConsumer(bus, {
    stream: 'PAYMENT_EVENTS',
    durable: COMPLETED_CONSUMER,
    subject: SUBJECTS.PAYMENT_COMPLETED,
    ...(metrics ? { metrics } : {}),
    log: log.child({ component: COMPLETED_CONSUMER }),
    async handle(event) {
      const result = await protocol.onPaymentCompleted(event.id, event.data as PaymentCompleted)
      if (result === 'CONFIRMATION_FAILED')
        log.warn({ eventId: event.id, reservationId: (event.data as PaymentCompleted).reservationId }, 'paid reservation could not be confirmed')
    },
  })
  const refunded = await startConsumer(bus, {
    stream: 'PAYMENT_EVENTS',
    durable: REFUNDED_CONSUMER,
    subject: SUBJECTS.PAYMENT_REFUNDED,
    ...(metrics ? { metrics } : {}),
    log: log.child({ component: REFUNDED_CONSUMER }),
    async handle(event) {
      await protocol.onPaymentRefunded(event.id, event.data as PaymentRefunded)
    },
  })
  return [completed, refunded]
}
