import { stopBeforeClose } from '@tickets/shared/background'
import { dbOptionsOf } from '@tickets/shared/prisma-pool'
import { ensureStream, startConsumers } from '@tickets/shared/nats'
import { registerOutboxMetrics, startOutboxRelay } from '@tickets/shared/outbox'
import { OUTBOX_RETENTION, PROCESSED_EVENTS_RETENTION, startRetention } from '@tickets/shared/retention'
import { createServiceApp } from '@tickets/shared/service-app'
import type { FastifyInstance } from 'fastify'
import { createMariadbIdempotencyStore } from './adapters/mariadb-idempotency-store.js'
import { createMariadbPaymentStore } from './adapters/mariadb-payment-store.js'
import { createMariadbWalletStore } from './adapters/mariadb-wallet-store.js'
import { createNatsBookingGateway } from './adapters/nats-booking-gateway.js'
import type { Config } from './config.js'
import { bookingEventConsumers } from './consumers/booking-events.js'
import { createPaymentService } from './domain/payment-service.js'
import { createPointsService } from './domain/points-service.js'
import dbPlugin from './plugins/db.js'
import { idempotencyPlugin, startIdempotencySweeper } from './plugins/idempotency.js'
import { createPaymentMetrics } from './plugins/payment-metrics.js'
import { paymentsUnderWayPlugin } from './plugins/payments-under-way.js'
import { paymentRoutes } from './routes/payments.js'
import { pointsRoutes } from './routes/points.js'

export interface BuildOptions {
  defaultMetrics?: boolean
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'payment-service',
    config,
    defaultMetrics: options.defaultMetrics,
    db: { plugin: dbPlugin, options: dbOptionsOf(config) },
    pressure: { service: 'payment', intervalMs: config.PRESSURE_INTERVAL_MS, watch: { method: 'POST', route: '/api/payments' } },
  })
  registerOutboxMetrics(app.metrics, app.pool)
  await ensureStream(app.nats, 'PAYMENT_EVENTS')
  const relay = startOutboxRelay({ pool: app.pool, bus: app.nats, log: app.log, idleDelayMs: config.OUTBOX_POLL_MS })

  const metrics = createPaymentMetrics(app.metrics)
  const idempotencyKeys = createMariadbIdempotencyStore(app.pool, { ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS, leaseMs: config.IDEMPOTENCY_LEASE_MS })
  await app.register(paymentsUnderWayPlugin, { max: config.PAYMENTS_UNDER_WAY_MAX || 4 * config.MYSQL_POOL_SIZE, registry: app.metrics })
  await app.register(idempotencyPlugin, { store: idempotencyKeys, onReplay: metrics.replay })

  const points = createPointsService({ wallets: createMariadbWalletStore(app.pool), maxBalance: config.POINTS_MAX_BALANCE })
  const payments = createPaymentService({
    payments: createMariadbPaymentStore(app.pool),
    booking: createNatsBookingGateway(app.nats, { timeoutMs: config.BOOKING_RPC_TIMEOUT_MS, attemptMs: config.BOOKING_RPC_ATTEMPT_MS }),
    events: relay,
    metrics: metrics.metrics,
    log: app.log.child({ component: 'payments' }),
  })
  await app.register(pointsRoutes, { prefix: '/api/points', points })
  await app.register(paymentRoutes, { prefix: '/api/payments', payments })

  // Stopped in reverse: the consumers first, the relay that publishes their events last.
  stopBeforeClose(app, [
    relay,
    config.RETENTION_INTERVAL_MS > 0
      ? startRetention({ pool: app.pool, rules: [OUTBOX_RETENTION, PROCESSED_EVENTS_RETENTION], intervalMs: config.RETENTION_INTERVAL_MS, log: app.log, metrics: app.metrics })
      : undefined,
    startIdempotencySweeper(idempotencyKeys, { intervalMs: config.IDEMPOTENCY_SWEEP_INTERVAL_MS, log: app.log.child({ component: 'idempotency' }) }),
    await startConsumers({ bus: app.nats, service: 'payment', log: app.log, metrics: app.metrics }, bookingEventConsumers({ payments, ackWaitMs: config.CONSUMER_ACK_WAIT_MS })),
  ])
  return app
}
