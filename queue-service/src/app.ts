import { randomUUID } from 'node:crypto'
import { stopBeforeClose } from '@tickets/shared/background'
import { startConsumers } from '@tickets/shared/nats'
import { createServiceApp } from '@tickets/shared/service-app'
import type { FastifyInstance } from 'fastify'
import { createJwtTokenIssuer } from './adapters/jwt-token-issuer.js'
import { createNatsConcertDirectory } from './adapters/nats-concert-directory.js'
import { createNatsInventorySource } from './adapters/nats-inventory-source.js'
import { createRedisAdmissionHealth } from './adapters/redis-admission-health.js'
import { createRedisAnswerCapacity } from './adapters/redis-answer-capacity.js'
import { createRedisDrawStore } from './adapters/redis-draw-store.js'
import { createWorkerDrawComputer } from './adapters/worker-draw-order.js'
import { createRedisLineStore, STEP_BATCH_LIMIT } from './adapters/redis-line-store.js'
import type { Config } from './config.js'
import { queueConsumers } from './consumers/queue-consumers.js'
import type { Clock } from './domain/ports.js'
import { createDrawKeeper, type DrawKeeper } from './domain/draw-keeper.js'
import { createDrawPublication } from './domain/draw-publication.js'
import { createInventoryKeeper, type InventoryKeeper } from './domain/inventory-keeper.js'
import { createQueueService, type QueueService } from './domain/queue-service.js'
import { startAdmissionLoop } from './plugins/admission-loop.js'
import { createQueueMetrics } from './plugins/queue-metrics.js'
import { drawRoutes } from './routes/draws.js'
import { queueTokenRoutes } from './routes/queue-token.js'

export interface BuildOptions {
  defaultMetrics?: boolean
  /** Tests pass a manual clock and run `app.queue.tick()` themselves. */
  clock?: Clock
  /** The timer that runs admission steps (default on). */
  admissionLoop?: boolean
  /** The JetStream consumers (default on). */
  consumers?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    queue: QueueService
    queueInventory: InventoryKeeper
    queueDraws: DrawKeeper
  }
}

const systemClock: Clock = { now: () => Date.now() }
// Places per draw script call: each call stays a few milliseconds of Redis (docs/benchmarks.md, the draw).
const DRAW_CHUNK = 1_000

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await createServiceApp({
    service: 'queue-service',
    config,
    defaultMetrics: options.defaultMetrics,
  })

  const clock = options.clock ?? systemClock
  const store = createRedisLineStore(app.redis, { timeoutMs: config.QUEUE_REDIS_TIMEOUT_MS })
  const health = createRedisAdmissionHealth(app.redis, {
    policy: {
      p95TargetMs: { booking: config.BACKOFF_HOLD_P95_MS, payment: config.BACKOFF_PAY_P95_MS },
      minSamples: 5,
      minFactor: config.BACKOFF_MIN_FACTOR,
      decrease: 0.5,
      increasePerSecond: config.BACKOFF_RECOVERY_PER_SECOND,
    },
    maxAgeMs: config.PRESSURE_MAX_AGE_MS,
    timeoutMs: config.QUEUE_REDIS_TIMEOUT_MS,
  })
  const metrics = createQueueMetrics(app.metrics, health)
  const inventoryLog = app.log.child({ component: 'inventory' })
  const inventory = createInventoryKeeper({
    store,
    source: createNatsInventorySource(app.nats, { timeoutMs: config.INVENTORY_TIMEOUT_MS }),
    clock,
    events: metrics.events,
    resyncIntervalMs: config.INVENTORY_RESYNC_SECONDS * 1000,
    overdueMs: config.INVENTORY_OVERDUE_SECONDS * 1000,
    retryMs: 5_000,
    onError: (err, concertId) => inventoryLog.warn({ err, concertId }, 'inventory resync failed; admitting by rate and cap until it succeeds'),
  })
  const drawStore = createRedisDrawStore(app.redis, { timeoutMs: config.QUEUE_REDIS_TIMEOUT_MS })
  const drawLog = app.log.child({ component: 'draw' })
  const draws = createDrawKeeper({
    store: drawStore,
    computer: createWorkerDrawComputer(),
    clock,
    events: metrics.events,
    owner: `${config.INSTANCE_ID}:${randomUUID()}`,
    preQueueWindowMs: config.PRE_QUEUE_WINDOW_SECONDS * 1000,
    chunkSize: DRAW_CHUNK,
    lockTtlMs: 10_000,
    retentionMs: config.DRAW_RETENTION_DAYS * 86_400_000,
    onError: (err, concertId) => drawLog.error({ err, concertId }, 'draw failed; admission waits for it, retried every step'),
  })
  const queue = createQueueService({
    store,
    inventory,
    draws,
    health,
    capacity: createRedisAnswerCapacity(app.redis, { share: config.POLL_CAPACITY_SHARE, refreshMs: 1_000, timeoutMs: config.QUEUE_REDIS_TIMEOUT_MS }),
    batchLimit: STEP_BATCH_LIMIT,
    tokens: createJwtTokenIssuer(config.AUTH_JWT_SECRET),
    concerts: createNatsConcertDirectory(app.nats, {
      cacheMs: config.CONCERT_STATUS_CACHE_MS,
      timeoutMs: config.CONCERT_STATUS_TIMEOUT_MS,
      log: app.log.child({ component: 'concert-directory' }),
    }),
    clock,
    events: metrics.events,
    defaults: {
      ratePerSecond: config.ADMISSION_RATE_PER_SECOND,
      activeCap: config.ACTIVE_CAP,
      activeTtlMs: config.ACTIVE_TTL_SECONDS * 1000,
      idleTimeoutMs: config.WAITING_IDLE_TIMEOUT_SECONDS * 1000,
      activeIdleMs: config.ACTIVE_IDLE_SECONDS * 1000,
      tickMs: config.ADMISSION_TICK_MS,
      overbook: config.ADMISSION_OVERBOOK,
      waitingTokenTtlMs: config.WAITING_TOKEN_TTL_SECONDS * 1000,
    },
  })
  app.decorate('queue', queue)
  app.decorate('queueInventory', inventory)
  app.decorate('queueDraws', draws)
  await app.register(queueTokenRoutes, { prefix: '/api/queue', queue, joinSeconds: metrics.joinSeconds, pollSeconds: metrics.pollSeconds })
  await app.register(drawRoutes, { prefix: '/api/queue/draws', draws: createDrawPublication({ store: drawStore }) })

  stopBeforeClose(app, [
    (options.consumers ?? true) ? await startConsumers({ bus: app.nats, service: 'queue', log: app.log, metrics: app.metrics }, queueConsumers({ queue, inventory })) : undefined,
    (options.admissionLoop ?? true) ? startAdmissionLoop({ queue, tickMs: config.ADMISSION_TICK_MS, log: app.log.child({ component: 'admission-loop' }) }) : undefined,
  ])
  return app
}
