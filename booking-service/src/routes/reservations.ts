import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { QUEUE_CONCERT_HEADER } from '@tickets/contracts/auth'
import { problemResponses, userIdOf } from '@tickets/shared/http'
import { Type } from 'typebox'
import type { ReservationService } from '../domain/reservation-service.js'

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })
const HoldBody = Type.Object({ scheduleId: Id, seatNumber: Type.Integer({ minimum: 1, maximum: 100_000 }) }, { additionalProperties: false })
const HeldSchema = Type.Object({
  reservationId: Type.String(),
  status: Type.Literal('HELD'),
  price: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
})
const ReservationSchema = Type.Object({
  reservationId: Type.String(),
  status: Type.String(),
  concertId: Type.String(),
  scheduleId: Type.String(),
  seatNumber: Type.Integer(),
  price: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  createdAt: Type.String({ format: 'date-time' }),
  confirmedAt: Type.Optional(Type.String({ format: 'date-time' })),
})
const IdParams = Type.Object({ reservationId: Id })

export const reservationRoutes: FastifyPluginAsyncTypebox<{ reservations: ReservationService }> = async (app, { reservations }) => {
  app.post(
    '/',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Hold a seat (queue token required at the gateway)',
        body: HoldBody,
        response: { 201: HeldSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const header = request.headers[QUEUE_CONCERT_HEADER]
      const held = await reservations.hold({
        userId: userIdOf(request),
        scheduleId: request.body.scheduleId,
        seatNumber: request.body.seatNumber,
        queueConcertId: typeof header === 'string' ? header : undefined,
      })
      request.log.info({ reservationId: held.reservationId, scheduleId: request.body.scheduleId }, 'seat held')
      return reply.code(201).send(held)
    },
  )
  app.get(
    '/:reservationId',
    { schema: { tags: ['reservations'], summary: 'One of my reservations', params: IdParams, response: { 200: ReservationSchema, ...problemResponses(400, 401, 404) } } },
    async (request) => reservations.get(request.params.reservationId, userIdOf(request)),
  )
  app.delete(
    '/:reservationId',
    {
      schema: {
        tags: ['reservations'],
        summary: 'Give up a hold; the seat is free at once',
        params: IdParams,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      await reservations.cancel(request.params.reservationId, userIdOf(request))
      return reply.code(204).send(null)
    },
  )
}
