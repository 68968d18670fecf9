import { SUBJECTS, type ReservationConfirmed, type ReservationReleased } from '@tickets/shared/events'
import { startConsumer, type NatsBus, type RunningConsumer } from '@tickets/shared/nats'
import type { FastifyBaseLogger } from 'fastify'
import type { CatalogueService } from '../domain/catalogue-service.js'

/**
 * Keeps the sell-out ranking from reservation events. Each event only says which concert to look
 * at again: the place is recomputed from the database, so duplicates and reordering are harmless.
 */
export async function startRankingConsumers(bus: NatsBus, catalogue: CatalogueService, log: FastifyBaseLogger): Promise<RunningConsumer[]> {
  const confirmed = await startConsumer(bus, {
    stream: 'BOOKING_EVENTS',
    durable: 'booking-ranking-confirmed',
    subject: SUBJECTS.RESERVATION_CONFIRMED,
    log: log.child({ component: 'ranking-confirmed' }),
    async handle(event) {
      const data = event.data as ReservationConfirmed
      // Only a sell-out can put a concert on the board.
      if (data.concertSoldOut) await catalogue.refreshRanking(data.concertId)
    },
  })
  const released = await startConsumer(bus, {
    stream: 'BOOKING_EVENTS',
    durable: 'booking-ranking-released',
    subject: SUBJECTS.RESERVATION_RELEASED,
    log: log.child({ component: 'ranking-released' }),
    async handle(event) {
      // A refund after a sell-out takes the concert off the board (until it sells out again).
      if ((event.data as ReservationReleased).reason === 'REFUNDED') await catalogue.refreshRanking((event.data as ReservationReleased).concertId)
    },
  })
  return [confirmed, released]
}
