import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses, userIdOf } from '@tickets/shared/http'
import { Type } from 'typebox'
import type { PointsService } from '../domain/points-service.js'

export const pointsRoutes: FastifyPluginAsyncTypebox<{ points: PointsService }> = async (app, { points }) => {
  app.get(
    '/',
    { schema: { tags: ['points'], summary: 'The user\'s points balance', response: { 200: Type.Object({ balance: Type.Integer() }), ...problemResponses(401, 503) } } },
    async (request) => ({ balance: await points.balance(userIdOf(request)) }),
  )
}
