import { ConcertStatusReplySchema, RPC } from '@tickets/contracts/events'
import { requestTraced, type NatsBus } from '@tickets/shared/nats'
import type { FastifyBaseLogger } from 'fastify'
import { Value } from 'typebox/value'
import type { ConcertDirectory, ConcertStatus } from '../domain/ports.js'

/**
 * Asks booking (RPC.CONCERT_STATUS) whether a concert exists and is sold out, and keeps the answer
 * briefly in memory: a spike of joins to one concert costs booking one request per instance.
 * When booking does not answer, the status is unknown (also cached, so a dead booking does not add
 * its timeout to every join) and the join goes ahead: the line must not fail with booking.
 */
export function createNatsConcertDirectory(bus: NatsBus, opts: { cacheMs: number; timeoutMs: number; log: FastifyBaseLogger }): ConcertDirectory {
  const cache = new Map<string, { at: number; status: ConcertStatus }>()
  const inFlight = new Map<string, Promise<ConcertStatus>>()

  async function ask(concertId: string): Promise<ConcertStatus> {
    try {
      const reply = await requestTraced<unknown>(bus, RPC.CONCERT_STATUS, { concertId }, { timeoutMs: opts.timeoutMs })
      if (Value.Check(ConcertStatusReplySchema, reply)) return reply
      opts.log.warn({ concertId }, 'concert status reply is malformed')
    } catch (err) {
      opts.log.warn({ err, concertId }, 'booking did not answer the concert status; letting the join proceed')
    }
    return { unknown: true }
  }

  return {
    async status(concertId) {
      const hit = cache.get(concertId)
      if (hit && Date.now() - hit.at < opts.cacheMs) return hit.status
      let pending = inFlight.get(concertId)
      if (!pending) {
        pending = ask(concertId).then((status) => {
          cache.set(concertId, { at: Date.now(), status })
          if (cache.size > 10_000) cache.delete(cache.keys().next().value!)
          return status
        })
        pending.finally(() => inFlight.delete(concertId)).catch(() => undefined)
        inFlight.set(concertId, pending)
      }
      return pending
    },
  }
}
