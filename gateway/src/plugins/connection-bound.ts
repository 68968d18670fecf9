import type { Socket } from 'node:net'
import proxyAddr from '@fastify/proxy-addr'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'

export interface ConnectionBoundOptions {
  /** Open connections one address may hold; 0: no bound. */
  maxPerAddress: number
  /** Addresses or CIDRs of trusted proxies: many clients arrive through each, so they are not bounded. */
  trusted: string[]
}

/**
 * At most `maxPerAddress` open connections from one address: one more is closed as soon as it opens,
 * before a byte is read, so a client cannot hold the gateway's sockets (and their timeouts) by the
 * thousand. Requests from a trusted proxy are bounded per client by the rate limits instead.
 */
export default fp(
  async (app: FastifyInstance, opts: ConnectionBoundOptions) => {
    if (opts.maxPerAddress <= 0) return
    const refused = new Counter({ name: 'gateway_connections_refused_total', help: 'Connections closed at once: their address held too many', registers: [app.metrics] })
    const trusted = proxyAddr.compile(opts.trusted)
    const open = new Map<string, number>()
    app.server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress
      if (!address || trusted(address, 0)) return
      const count = (open.get(address) ?? 0) + 1
      if (count > opts.maxPerAddress) {
        refused.inc()
        socket.destroy()
        return
      }
      open.set(address, count)
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1
        if (left > 0) open.set(address, left)
        else open.delete(address)
      })
    })
  },
  { name: 'connection-bound', dependencies: ['metrics'] },
)
