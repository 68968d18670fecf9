import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { connectNats, type NatsBus } from './connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    nats: NatsBus
  }
}

/** Decorates `app.nats` and drains it on close (onClose), after the consumers stopped (stopBeforeClose, preClose). */
export const natsPlugin = fp(
  async (app: FastifyInstance, opts: { url: string; name: string; namespace: string; streamReplicas?: number }) => {
    const bus = await connectNats({ ...opts, log: app.log })
    app.decorate('nats', bus)
    app.addHook('onClose', async () => {
      await bus.close()
    })
  },
  { name: 'nats', fastify: '5.x' },
)
