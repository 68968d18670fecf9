import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problemResponses } from '@tickets/shared/http'
import { Type } from 'typebox'
import type { DrawPublication } from '../domain/draw-publication.js'

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' })
const Time = Type.String({ format: 'date-time' })

const DrawInfo = Type.Object({
  concertId: Type.String(),
  status: Type.Union([Type.Literal('PRE_QUEUE'), Type.Literal('DRAWING'), Type.Literal('DRAWN')]),
  algorithm: Type.String({ description: 'How the order follows from seed and entries (docs/api.md, the draw)' }),
  opensAt: Time,
  preQueueOpensAt: Time,
  seedHash: Type.String({ description: 'SHA-256 of the seed, committed before the pre-queue opened' }),
  committedAt: Time,
  entries: Type.Integer({ minimum: 0, description: 'Fans in the pre-queue; once drawing, the entries of the draw' }),
  frozenAt: Type.Optional(Time),
  digest: Type.Optional(Type.String({ description: 'SHA-256 of the sorted entry ids joined by newlines' })),
  seed: Type.Optional(Type.String({ description: 'Revealed once DRAWN' })),
  drawnAt: Type.Optional(Time),
  firstArrivalNumber: Type.Optional(Type.Integer({ minimum: 1 })),
})
const Order = Type.Object({
  concertId: Type.String(),
  entries: Type.Integer({ minimum: 0 }),
  offset: Type.Integer({ minimum: 0 }),
  order: Type.Array(Hex64, { description: 'Entry ids in drawn order, from place offset + 1' }),
})
const Entry = Type.Object({
  concertId: Type.String(),
  entryId: Hex64,
  place: Type.Integer({ minimum: 1 }),
  entries: Type.Integer({ minimum: 1 }),
  score: Hex64,
  seed: Type.String(),
  digest: Hex64,
})

/** The opening's draw as anyone may read it: no user needed, nothing secret before it is made. */
export const drawRoutes: FastifyPluginAsyncTypebox<{ draws: DrawPublication }> = async (app, opts) => {
  const { draws } = opts

  app.get('/:concertId', { schema: { params: Type.Object({ concertId: Id }), response: { 200: DrawInfo, ...problemResponses(400, 404, 503) } } }, async (request) =>
    draws.info(request.params.concertId),
  )

  app.get(
    '/:concertId/entries',
    {
      schema: {
        params: Type.Object({ concertId: Id }),
        querystring: Type.Object({
          offset: Type.Integer({ minimum: 0, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000 }),
        }),
        response: { 200: Order, ...problemResponses(400, 404, 409, 503) },
      },
    },
    async (request) => draws.entries(request.params.concertId, request.query.offset, request.query.limit),
  )

  app.get(
    '/:concertId/entries/:entryId',
    { schema: { params: Type.Object({ concertId: Id, entryId: Hex64 }), response: { 200: Entry, ...problemResponses(400, 404, 409, 503) } } },
    async (request) => draws.entry(request.params.concertId, request.params.entryId),
  )
}
