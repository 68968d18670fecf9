import { ConcertInventoryReplySchema, RPC } from '@tickets/contracts/events'
import { requestTraced, type NatsBus } from '@tickets/shared/nats'
import { Value } from 'typebox/value'
import type { InventorySource } from '../domain/ports.js'

/** Asks booking (RPC.CONCERT_INVENTORY) for a concert's inventory; throws when booking does not answer. */
export function createNatsInventorySource(bus: NatsBus, opts: { timeoutMs: number }): InventorySource {
  return {
    async snapshot(concertId) {
      const reply = await requestTraced<unknown>(bus, RPC.CONCERT_INVENTORY, { concertId }, { timeoutMs: opts.timeoutMs })
      if (!Value.Check(ConcertInventoryReplySchema, reply)) throw new Error('concert inventory reply is malformed')
      if (!reply.exists) return null
      return { asOf: reply.asOf, total: reply.total, sold: reply.sold, opensAt: reply.opensAt, holds: reply.holds }
    },
  }
}
