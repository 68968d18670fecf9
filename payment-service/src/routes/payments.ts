import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { QUEUE_CONCERT_HEADER } from '@tickets/contracts/auth'
import { problemResponses, userIdOf } from '@tickets/shared/http'
import { Type } from 'typebox'
import type { PaymentService } from '../domain/payment-service.js'
import { idempotentRun } from '../plugins/idempotency.js'

const PaymentSchema = Type.Object({
  paymentId: Type.String(),
  reservationId: Type.String(),
  amount: Type.Integer(),
  status: Type.Union([Type.Literal('COMPLETED'), Type.Literal('REFUNDED')]),
  /** PENDING: booking was unreachable at that moment; it confirms from the payment event by itself. */
  confirmation: Type.Union([Type.Literal('PENDING'), Type.Literal('CONFIRMED'), Type.Literal('FAILED')]),
  createdAt: Type.String(),
  refundedAt: Type.Optional(Type.String()),
})

export const paymentRoutes: FastifyPluginAsyncTypebox<{ payments: PaymentService }> = async (app, { payments }) => {
  app.post(
    '/',
    {
      config: { idempotent: true, payment: true },
      schema: {
        tags: ['payments'],
        summary: 'Pays a held reservation with points (idempotent by Idempotency-Key)',
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        body: Type.Object({ reservationId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 201: PaymentSchema, ...problemResponses(400, 401, 403, 404, 409, 422, 503) },
      },
    },
    async (request, reply) => {
      const concert = request.headers[QUEUE_CONCERT_HEADER]
      const run = idempotentRun(request)
      const payment = await payments.pay({
        userId: userIdOf(request),
        reservationId: request.body.reservationId,
        concertId: typeof concert === 'string' && concert.length > 0 ? concert : undefined,
        requestKey: run.requestId,
        firstRun: run.firstRun,
      })
      return reply.code(201).send(payment)
    },
  )

  app.get(
    '/:paymentId',
    {
      schema: {
        tags: ['payments'],
        summary: "The user's own payment",
        params: Type.Object({ paymentId: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 200: PaymentSchema, ...problemResponses(401, 404, 503) },
      },
    },
    async (request) => payments.get(userIdOf(request), request.params.paymentId),
  )
}
