import { RPC, type ConcertInventoryReply } from '@tickets/contracts/events'
import { serveRpc } from '@tickets/shared/nats'
import type { FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'

/** Booking's side of the line's resync: each concert's inventory as `inventoryOf` says; stopped after the file. */
export function serveInventory(app: FastifyInstance, inventoryOf: (concertId: string) => ConcertInventoryReply): void {
  const responder = serveRpc(app.nats, RPC.CONCERT_INVENTORY, async (req): Promise<ConcertInventoryReply> => inventoryOf((req as { concertId: string }).concertId), app.log)
  afterAll(() => responder.stop())
}
