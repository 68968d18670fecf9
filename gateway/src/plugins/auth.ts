import { AppError } from '@tickets/shared/errors'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { errors, jwtVerify } from 'jose'

declare module 'fastify' {
  interface FastifyRequest {
    userId: string | null
  }
}

const ALGORITHMS = ['HS256']

/** Verifies the user JWT (HS256, `exp` required) and exposes `request.userId`; never trusts a client header. */
export default fp(
  async (app: FastifyInstance, opts: { secret: string }) => {
    const key = new TextEncoder().encode(opts.secret)
    app.decorateRequest('userId', null)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization
      if (!header) throw new AppError('AUTH_MISSING_TOKEN', 'Send Authorization: Bearer <token>', { headers: { 'www-authenticate': 'Bearer' } })
      const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(header)
      if (!match?.[1]) throw new AppError('AUTH_INVALID_TOKEN', 'Authorization must be Bearer <JWT>', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
      try {
        const { payload } = await jwtVerify(match[1], key, { algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] })
        if (typeof payload.sub !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(payload.sub)) throw new AppError('AUTH_INVALID_TOKEN', 'Token subject is not a valid user id')
        request.userId = payload.sub
      } catch (err) {
        if (err instanceof AppError) throw err
        if (err instanceof errors.JWTExpired) throw new AppError('AUTH_TOKEN_EXPIRED', 'Token has expired', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
        throw new AppError('AUTH_INVALID_TOKEN', 'Token signature or claims are not valid', { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
      }
    })
  },
  { name: 'auth' },
)

declare module 'fastify' {
  interface FastifyInstance {
    authenticate(request: FastifyRequest): Promise<void>
  }
}
