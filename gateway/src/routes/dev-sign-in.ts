import { signUserToken } from '@tickets/contracts/auth'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

const TOKEN_TTL_SECONDS = 12 * 3600

/**
 * The development sign-in: any user id gets a user token, as `npm run token` makes them. Only
 * registered when DEV_SIGN_IN is on, which `npm start` alone sets; the deploy files never do, and
 * without it these routes do not exist (404).
 */
export async function devSignInRoutes(app: FastifyInstance, opts: { secret: string; issuer?: string | undefined }) {
  app.get('/dev/sign-in', { schema: { hide: true } }, async (_request, reply) => reply.code(204).send())
  app.post(
    '/dev/sign-in',
    {
      schema: {
        hide: true,
        body: Type.Object({ userId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String() }) },
      },
    },
    async (request, reply) => {
      const { userId } = request.body as { userId: string }
      request.log.info({ userId }, 'development sign-in')
      reply.header('cache-control', 'no-store')
      return { token: await signUserToken({ secret: opts.secret, userId, ttlSeconds: TOKEN_TTL_SECONDS, issuer: opts.issuer }) }
    },
  )
}
