import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses } from '@tickets/shared/http'
import { Type } from 'typebox'
import type { CatalogueService } from '../domain/catalogue-service.js'

const ConcertSchema = Type.Object({ concertId: Type.String(), title: Type.String(), artist: Type.String(), venue: Type.String() })
const ScheduleSchema = Type.Object({
  scheduleId: Type.String(),
  concertId: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  bookingOpensAt: Type.String({ format: 'date-time' }),
  totalSeats: Type.Integer(),
  availableSeats: Type.Integer(),
})
const ConcertIdParams = Type.Object({ concertId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) })

export const concertRoutes: FastifyPluginAsyncTypebox<{ catalogue: CatalogueService }> = async (app, { catalogue }) => {
  app.get(
    '/',
    { schema: { tags: ['concerts'], summary: 'Concerts on sale', response: { 200: Type.Object({ concerts: Type.Array(ConcertSchema) }), ...problemResponses(503) } } },
    async () => ({ concerts: await catalogue.listConcerts() }),
  )
  app.get(
    '/:concertId/schedules',
    {
      schema: {
        tags: ['concerts'],
        summary: 'Dates of a concert with available seats',
        params: ConcertIdParams,
        response: { 200: Type.Object({ schedules: Type.Array(ScheduleSchema) }), ...problemResponses(400, 404, 503) },
      },
    },
    async (request) => ({ schedules: await catalogue.listSchedules(request.params.concertId) }),
  )
}
