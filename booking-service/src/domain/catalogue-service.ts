import { AppError } from '@tickets/shared/errors'
import type { CatalogueStore, Clock } from './ports.js'

export function createCatalogueService({ store, clock }: { store: CatalogueStore; clock: Clock }) {
  return {
    listConcerts: () => store.listConcerts(),
    async listSchedules(concertId: string) {
      const schedules = await store.listSchedules(concertId, clock.now())
      if (schedules.length === 0 && !(await store.concertExists(concertId))) {
        throw new AppError('BOOKING_CONCERT_NOT_FOUND', `Concert ${concertId} does not exist`)
      }
      return schedules
    },
  }
}
export type CatalogueService = ReturnType<typeof createCatalogueService>
