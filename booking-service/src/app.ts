import { stopBeforeClose } from '@tickets/shared/background'
import { dbOptionsOf } from '@tickets/shared/prisma-pool'
import { ensureStream, startConsumers } from '@tickets/shared/nats'
import { registerOutboxMetrics, startOutboxRelay } from '@tickets/shared/outbox'
import { OUTBOX_RETENTION, PROCESSED_EVENTS_RETENTION, startRetention } from '@tickets/shared/retention'
import { createRedisGuard } from '@tickets/shared/redis'
import { createServiceApp } from '@tickets/shared/service-app'
import type { FastifyInstance } from 'fastify'
import { createMariadbSeatStore } from './adapters/mariadb-seat-store.js'
import { createPrismaCatalogueStore } from './adapters/prisma-catalogue-store.js'
import { createRedisCache } from './adapters/redis-cache.js'
import { createRedisRankingStore } from './adapters/redis-ranking-store.js'
import type { Config } from './config.js'
import { paymentEventConsumers } from './consumers/payment-events.js'
import { startPaymentResponders } from './consumers/payment-rpc.js'
import { rankingConsumers } from './consumers/ranking-events.js'
import { createCachedReader } from './domain/cached-reader.js'
import { createCatalogueService } from './domain/catalogue-service.js'
import { createPaymentProtocol } from './domain/payment-protocol.js'
import type { Clock } from './domain/ports.js'
import { createReservationService } from './domain/reservation-service.js'
import { createBookingMetrics, registerHoldMetrics } from './plugins/booking-metrics.js'
import dbPlugin from './plugins/db.js'
import { startExpirySweeper } from './plugins/expiry-sweeper.js'
import { concertRoutes } from './routes/concerts.js'
import { reservationRoutes } from './routes/reservations.js'

export interface BuildOptions {
  /** Default Node process metrics; tests that build many apps in one process turn them off. */
  defaultMetrics?: boolean
  /** Where time matters (holds, expiry); tests move it by hand. */
  clock?: Clock
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'booking-service',
    config,
    defaultMetrics: options.defaultMetrics,
    db: { plugin: dbPlugin, options: dbOptionsOf(config) },
    // The waiting room slows admission when holds get slow or the pool has waiters.
    pressure: { service: 'booking', intervalMs: config.PRESSURE_INTERVAL_MS, watch: { method: 'POST', route: '/api/reservations' } },
  })

  const clock = options.clock ?? { now: () => new Date() }
  const metrics = createBookingMetrics(app.metrics)
  registerOutboxMetrics(app.metrics, app.pool)
  await ensureStream(app.nats, 'BOOKING_EVENTS')
  const relay = startOutboxRelay({ pool: app.pool, bus: app.nats, log: app.log })

  const seats = createMariadbSeatStore(app.pool)
  registerHoldMetrics(app.metrics, seats, clock)
  const cacheLog = app.log.child({ component: 'catalogue-cache' })
  const redisGuard = createRedisGuard(app.redis, { timeoutMs: config.REDIS_TIMEOUT_MS })
  const catalogue = createCatalogueService({
    store: createPrismaCatalogueStore(app.db, app.pool),
    seats,
    ranking: createRedisRankingStore(app.redis, redisGuard),
    reader: createCachedReader({ cache: createRedisCache(app.redis, redisGuard), onCacheError: (err) => cacheLog.debug({ err }, 'cache unavailable, reading the database') }),
    clock,
    catalogueTtlMs: config.CATALOGUE_CACHE_TTL_SECONDS * 1000,
    availabilityTtlMs: config.AVAILABILITY_CACHE_TTL_MS,
    onRankingError: (err) => cacheLog.debug({ err }, 'ranking unavailable in redis, reading the database'),
  })
  const reservations = createReservationService({
    seats,
    clock,
    events: relay,
    metrics,
    holdTtlSeconds: config.HOLD_TTL_SECONDS,
    holdLimitPerUser: config.HOLD_LIMIT_PER_USER,
    scheduleInfoTtlMs: config.SCHEDULE_INFO_TTL_MS,
  })
  const payments = createPaymentProtocol({ seats, clock, events: relay, metrics, payingTtlSeconds: config.PAYING_TTL_SECONDS })

  await app.register(concertRoutes, { prefix: '/api/concerts', catalogue })
  await app.register(reservationRoutes, { prefix: '/api/reservations', reservations })

  // Stopped in reverse: the responders and consumers first, the relay that publishes their events last.
  stopBeforeClose(app, [
    relay,
    config.RETENTION_INTERVAL_MS > 0
      ? startRetention({ pool: app.pool, rules: [OUTBOX_RETENTION, PROCESSED_EVENTS_RETENTION], intervalMs: config.RETENTION_INTERVAL_MS, log: app.log, metrics: app.metrics })
      : undefined,
    config.SWEEP_INTERVAL_MS > 0 ? startExpirySweeper(reservations, { intervalMs: config.SWEEP_INTERVAL_MS, log: app.log.child({ component: 'expiry-sweeper' }) }) : undefined,
    config.CONSUMERS_ENABLED
      ? await startConsumers({ bus: app.nats, service: 'booking', log: app.log, metrics: app.metrics }, [
          ...paymentEventConsumers(payments, { settleMs: config.PAYMENT_EVENT_SETTLE_MS }),
          ...rankingConsumers(catalogue),
        ])
      : undefined,
    startPaymentResponders(app.nats, payments, app.log.child({ component: 'payment-rpc' })),
  ])
  return app
}
