import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses, userIdOf } from '@tickets/shared/http'
import { Type } from 'typebox'
import { MAX_CHARGE, MIN_CHARGE, type PointsService } from '../domain/points-service.js'
import { idempotentRun } from '../plugins/idempotency.js'

const BalanceSchema = Type.Object({ balance: Type.Integer() })
const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ description: '1 to 64 visible characters naming this request' })) })

export const pointsRoutes: FastifyPluginAsyncTypebox<{ points: PointsService }> = async (app, { points }) => {
  app.get('/', { schema: { tags: ['points'], summary: "The user's points balance", response: { 200: BalanceSchema, ...problemResponses(401, 503) } } }, async (request) => ({
    balance: await points.balance(userIdOf(request)),
  }))

  app.post(
    '/charge',
    {
      config: { idempotent: true },
      schema: {
        tags: ['points'],
        summary: 'Adds points (idempotent by Idempotency-Key)',
        headers: IdempotencyHeaders,
        body: Type.Object({ amount: Type.Integer({ minimum: MIN_CHARGE, maximum: MAX_CHARGE }) }, { additionalProperties: false }),
        response: { 200: BalanceSchema, ...problemResponses(400, 401, 409, 422, 503) },
      },
    },
    async (request) => points.charge({ userId: userIdOf(request), amount: request.body.amount, requestKey: idempotentRun(request).requestId }),
  )
}
