import { Counter, type Registry } from 'prom-client'
import type { PaymentMetrics } from '../domain/ports.js'

export function createPaymentMetrics(registry: Registry) {
  const payments = new Counter({ name: 'payments_total', help: 'Payment requests by outcome', labelNames: ['outcome'], registers: [registry] })
  const refunds = new Counter({ name: 'payment_refunds_total', help: 'Payments refunded, by what triggered the refund', labelNames: ['source'], registers: [registry] })
  const replays = new Counter({ name: 'idempotent_replays_total', help: 'Requests answered from a stored Idempotency-Key result', labelNames: ['route'], registers: [registry] })
  const redeliveries = new Counter({ name: 'consumer_redeliveries_total', help: 'Events delivered again to a consumer (not acked in time or nak)', labelNames: ['consumer'], registers: [registry] })
  const parked = new Counter({ name: 'consumer_parked_total', help: 'Events parked on the dead-letter stream', labelNames: ['consumer'], registers: [registry] })
  const metrics: PaymentMetrics = {
    outcome: (outcome) => payments.inc({ outcome }),
    refunded: (source) => refunds.inc({ source }),
  }
  return {
    metrics,
    replay: (route: string) => replays.inc({ route }),
    redelivery: (consumer: string) => redeliveries.inc({ consumer }),
    parked: (consumer: string) => parked.inc({ consumer }),
  }
}
export type PaymentMetricSet = ReturnType<typeof createPaymentMetrics>
