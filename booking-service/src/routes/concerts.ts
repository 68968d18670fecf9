import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { QUEUE_CONCERT_HEADER } from '@tickets/contracts/auth'
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
const SeatSchema = Type.Object({
  seatNumber: Type.Integer(),
  grade: Type.String(),
  price: Type.Integer(),
  status: Type.Union([Type.Literal('AVAILABLE'), Type.Literal('HELD'), Type.Literal('SOLD')]),
})
const RankingEntrySchema = Type.Object({
  rank: Type.Integer(),
  concertId: Type.String(),
  title: Type.String(),
  artist: Type.String(),
  sellOutSeconds: Type.Number(),
})
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
const ConcertIdParams = Type.Object({ concertId: Id })
const SeatsParams = Type.Object({ concertId: Id, scheduleId: Id })

function queueConcertOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers[QUEUE_CONCERT_HEADER]
  return typeof value === 'string' ? value : undefined
}

export const concertRoutes: FastifyPluginAsyncTypebox<{ catalogue: CatalogueService }> = async (app, { catalogue }) => {
  app.get(
    '/',
    { schema: { tags: ['concerts'], summary: 'Concerts on sale', response: { 200: Type.Object({ concerts: Type.Array(ConcertSchema) }), ...problemResponses(503) } } },
    async () => ({ concerts: await catalogue.listConcerts() }),
  )
  app.get(
    '/ranking',
    {
      schema: {
        tags: ['concerts'],
        summary: 'Fastest sell-outs first (non-core: the gateway can switch it off)',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 10 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ ranking: Type.Array(RankingEntrySchema) }), ...problemResponses(400, 503) },
      },
    },
    async (request) => ({ ranking: await catalogue.ranking(request.query.limit) }),
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
  app.get(
    '/:concertId/schedules/:scheduleId/seats',
    {
      schema: {
        tags: ['concerts'],
        summary: 'Seat map of one date (queue token required at the gateway)',
        params: SeatsParams,
        response: { 200: Type.Object({ seats: Type.Array(SeatSchema) }), ...problemResponses(400, 403, 404, 503) },
      },
    },
    async (request) => ({
      seats: await catalogue.seatMap({ ...request.params, queueConcertId: queueConcertOf(request.headers) }),
    }),
  )
}
