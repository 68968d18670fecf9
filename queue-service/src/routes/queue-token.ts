import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { isAppError } from '@tickets/contracts/errors'
import { problemResponses, userIdOf } from '@tickets/shared/http'
import { QUEUE_TOKEN_HEADER } from '@tickets/contracts/queue-token'
import { PRESALE_CODE_HEADER } from '@tickets/contracts/presale'
import type { Histogram } from 'prom-client'
import { Type, type Static } from 'typebox'
import { withoutHint } from '@tickets/contracts/queue-view'
import type { QueueService } from '../domain/queue-service.js'

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
// What a waiting fan is told besides the place: how sure the estimate is, and why the line stands still.
const WaitDetails = {
  estimatedWaitRangeSeconds: Type.Tuple([Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 0 })]),
  reason: Type.Optional(Type.Union([Type.Literal('ALL_SEATS_HELD'), Type.Literal('PAUSED'), Type.Literal('NOT_OPEN_YET'), Type.Literal('OUT_OF_REACH')])),
  presale: Type.Optional(Type.Literal(true, { description: 'The place a presale code gave: the presale line, admitted before the general line' })),
  seatsOnHold: Type.Optional(Type.Integer({ minimum: 0 })),
  seatsLeft: Type.Optional(Type.Integer({ minimum: 0 })),
  nextReleaseAt: Type.Optional(Type.String({ format: 'date-time' })),
}
// A fan in the pre-queue: the opening, and the entry by which they find themselves in the published draw.
const PreQueueDetails = {
  opensAt: Type.Optional(Type.String({ format: 'date-time', description: 'The opening: of a pre-queue entry, or of a presale place taken before it' })),
  entryId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256(userId ":" entrySalt): the entry in the published draw' })),
  entrySalt: Type.Optional(Type.String({ pattern: '^[0-9a-f]{1,64}$' })),
  preQueued: Type.Optional(Type.Integer({ minimum: 0, description: 'Fans in the pre-queue' })),
  drawing: Type.Optional(Type.Boolean({ description: 'The opening passed and the draw is being applied' })),
}
const Joined = Type.Object({
  token: Type.String(),
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE'), Type.Literal('PRE_QUEUE')]),
  position: Type.Integer({ minimum: 0 }),
  estimatedWaitSeconds: Type.Integer({ minimum: 0 }),
  ...WaitDetails,
  ...PreQueueDetails,
  activeUntil: Type.Optional(Type.String({ format: 'date-time' })),
})
const Status = Type.Object({
  status: Type.Union([Type.Literal('WAITING'), Type.Literal('ACTIVE'), Type.Literal('PRE_QUEUE'), Type.Literal('EXPIRED'), Type.Literal('SOLD_OUT')]),
  position: Type.Integer({ minimum: 0 }),
  estimatedWaitSeconds: Type.Integer({ minimum: 0 }),
  ...WaitDetails,
  ...PreQueueDetails,
  activeUntil: Type.Optional(Type.String({ format: 'date-time' })),
  token: Type.Optional(Type.String()),
  /** Set when the gateway answered a poll far back in line from the line's summary: the position is an estimate. */
  positionEstimated: Type.Optional(Type.Boolean()),
})
const TokenHeader = Type.Object({ [QUEUE_TOKEN_HEADER]: Type.Optional(Type.String({ maxLength: 2048 })) })
const PresaleHeader = Type.Object({
  [PRESALE_CODE_HEADER]: Type.Optional(Type.String({ maxLength: 128, description: 'A presale code: a place in the presale line, or admission at once for a bypass code' })),
})

function outcomeOf(err: unknown): string {
  return isAppError(err) ? err.code.toLowerCase() : 'error'
}

async function timed<T>(histogram: Histogram<'outcome'>, run: () => Promise<T>): Promise<T> {
  const end = histogram.startTimer()
  try {
    const result = await run()
    end({ outcome: 'ok' })
    return result
  } catch (err) {
    end({ outcome: outcomeOf(err) })
    throw err
  }
}

export const queueTokenRoutes: FastifyPluginAsyncTypebox<{ queue: QueueService; joinSeconds: Histogram<'outcome'>; pollSeconds: Histogram<'outcome'> }> = async (app, opts) => {
  const { queue } = opts

  app.post(
    '/token',
    {
      schema: {
        body: Type.Object({ concertId: Id }, { additionalProperties: false }),
        headers: PresaleHeader,
        response: { 201: Joined, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const code = request.headers[PRESALE_CODE_HEADER]
      const view = await timed(opts.joinSeconds, () => queue.join(userIdOf(request), request.body.concertId, code))
      const { body, retryAfter } = withoutHint(view)
      if (!body.token || !retryAfter) throw new Error('a join never ends EXPIRED or SOLD_OUT')
      return reply
        .code(201)
        .header('retry-after', retryAfter)
        .send({ ...body, token: body.token } as Static<typeof Joined>)
    },
  )

  app.get(
    '/token',
    {
      schema: { headers: TokenHeader, response: { 200: Status, ...problemResponses(401, 403, 503) } },
    },
    async (request, reply) => {
      const view = await timed(opts.pollSeconds, () => queue.status(userIdOf(request), request.headers[QUEUE_TOKEN_HEADER]))
      const { body, retryAfter } = withoutHint(view)
      if (retryAfter) reply.header('retry-after', retryAfter)
      return body
    },
  )

  app.delete(
    '/token',
    {
      schema: { headers: TokenHeader, response: { 204: Type.Null(), ...problemResponses(401, 403, 404, 503) } },
    },
    async (request, reply) => {
      await queue.leave(userIdOf(request), request.headers[QUEUE_TOKEN_HEADER])
      return reply.code(204).send(null)
    },
  )
}
