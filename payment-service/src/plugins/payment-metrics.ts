import { Counter, type Registry } from 'prom-client'
import type { PaymentMetrics } from '../domain/ports.js'

/** Consumer redeliveries and parked messages are counted by startConsumer (nats_consumer_redeliveries_total, nats_messages_parked_total). */
export function createPaymentMetrics(registry: Registry) {
  const payments = new Counter({ name: 'payments_total', help: 'Payment requests by outcome', labelNames: ['outcome'], registers: [registry] })
  const refunds = new Counter({ name: 'payment_refunds_total', help: 'Payments refunded, by what triggered the refund', labelNames: ['source'], registers: [registry] })
  const replays = new Counter({ name: 'idempotent_replays_total', help: 'Requests answered from a stored Idempotency-Key result', labelNames: ['route'], registers: [registry] })
  const metrics: PaymentMetrics = {
    outcome: (outcome) => payments.inc({ outcome }),
    refunded: (source) => refunds.inc({ source }),
  }
  return {
    metrics,
    replay: (route: string) => replays.inc({ route }),
  }
}
export type PaymentMetricSet = ReturnType<typeof createPaymentMetrics>
