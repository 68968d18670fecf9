import { ensureStream } from '@tickets/shared/nats'
import { registerOutboxMetrics, startOutboxRelay, type OutboxRelay } from '@tickets/shared/outbox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    outbox: OutboxRelay
  }
}

/** Relays the payment outbox to PAYMENT_EVENTS; stopped before NATS drains. */
export const outboxPlugin = fp(
  async (app: FastifyInstance, opts: { pollMs: number }) => {
    await ensureStream(app.nats, 'PAYMENT_EVENTS')
    const relay = startOutboxRelay({ pool: app.pool, bus: app.nats, log: app.log, idleDelayMs: opts.pollMs })
    registerOutboxMetrics(app.metrics, app.pool)
    app.decorate('outbox', relay)
    app.addHook('preClose', async () => relay.stop())
  },
  { name: 'outbox', dependencies: ['db', 'nats', 'metrics'] },
)
