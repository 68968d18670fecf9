import { SUBJECTS } from '@tickets/contracts/events'
import type { EventConsumer } from '@tickets/shared/nats'
import type { CatalogueService } from '../domain/catalogue-service.js'

/**
 * Keeps the sell-out ranking from reservation events. Each event only says which concert to look
 * at again: the place is recomputed from the database, so duplicates and reordering are harmless.
 */
export function rankingConsumers(catalogue: CatalogueService): EventConsumer[] {
  return [
    {
      subject: SUBJECTS.RESERVATION_CONFIRMED,
      formerDurables: ['booking-ranking-confirmed'],
      async handle(event) {
        // Only a sell-out can put a concert on the board.
        if (event.data.concertSoldOut) await catalogue.refreshRanking(event.data.concertId)
      },
    },
    {
      subject: SUBJECTS.RESERVATION_RELEASED,
      formerDurables: ['booking-ranking-released'],
      async handle(event) {
        // A refund after a sell-out takes the concert off the board (until it sells out again).
        if (event.data.reason === 'REFUNDED') await catalogue.refreshRanking(event.data.concertId)
      },
    },
  ]
}
