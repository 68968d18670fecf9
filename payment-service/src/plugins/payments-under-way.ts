import { AppError } from '@tickets/contracts/errors'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge, type Registry } from 'prom-client'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is a payment: counted against PAYMENTS_UNDER_WAY_MAX from its first statement to its answer. */
    payment?: boolean
  }
}

export interface PaymentsUnderWayOptions {
  max: number
  registry: Registry
}

/**
 * At most `max` payments under way in this instance; the next is answered 503 with Retry-After
 * before it takes a connection or claims its Idempotency-Key. A payment is eleven round trips over
 * two pools and an RPC to booking: when the database or booking slows down, payments pile up in
 * every step's line (each holding a fan's charge) instead of the newest being told at once that it
 * may retry a second later. The bound is a few times what the pool serves at once: at the pool's
 * size, the ticket-open run refused payments in its opening burst on a healthy database.
 */
export const paymentsUnderWayPlugin = fp(
  async (app: FastifyInstance, { max, registry }: PaymentsUnderWayOptions) => {
    let underWay = 0
    new Gauge({
      name: 'payments_under_way',
      help: 'Payments this instance is running now',
      registers: [registry],
      collect() {
        this.set(underWay)
      },
    })
    const refused = new Counter({ name: 'payments_refused_busy_total', help: 'Payments answered 503 at once: PAYMENTS_UNDER_WAY_MAX were under way', registers: [registry] })

    // preValidation runs before the idempotency claim (a preHandler), so a refused payment leaves no key behind.
    app.addHook('preValidation', async (request, reply) => {
      if (!request.routeOptions.config.payment) return
      if (underWay >= max) {
        refused.inc()
        throw new AppError('COMMON_OVERLOADED', `${max} payments are under way in this instance; retry shortly`, { headers: { 'retry-after': '1' } })
      }
      underWay++
      // 'close' comes after the answer, or when the client went away (its work may run on a little,
      // uncounted): the one event every request ends with.
      reply.raw.once('close', () => underWay--)
    })
  },
  { name: 'payments-under-way', fastify: '5.x' },
)
