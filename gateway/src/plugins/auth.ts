import { AppError } from '@tickets/contracts/errors'
import { timeClaimsProblem, verifyHs256, type JwtPayload } from '@tickets/contracts/hs256'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { TwoGenerationCache } from '../domain/two-generation-cache.js'
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTVerifyOptions } from 'jose'

declare module 'fastify' {
  interface FastifyRequest {
    userId: string | null
  }
  interface FastifyInstance {
    authenticate(request: FastifyRequest): Promise<void>
  }
}

export interface AuthOptions {
  secret: string
  jwksUrl?: string | undefined
  issuer?: string | undefined
  audience?: string | undefined
  /** How long a JWKS fetch may take. */
  jwksTimeoutMs?: number
  /** The furthest ahead a token's exp may be. */
  maxLifetimeSeconds: number
}

/**
 * The allow-list. Each algorithm has exactly one kind of key: HS256 only ever meets the shared
 * secret, RS256/ES256 only keys from the JWKS. So `none` is refused, and a token signed with HMAC
 * over a public key (algorithm confusion) never finds a key that verifies it.
 */
const HMAC_ALGORITHMS = ['HS256']
const JWKS_ALGORITHMS = ['RS256', 'ES256']
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/
const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/
const VERIFIED_MAX = 10_000
const VERIFIED_TTL_MS = 60_000
const HEADERS_REMEMBERED = 64
const INVALID = { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
const CLOCK_TOLERANCE_S = 5

/** Verifies the user JWT and exposes `request.userId`; the user id comes from the token only. */
export default fp(
  async (app: FastifyInstance, opts: AuthOptions) => {
    const hmacKey = new TextEncoder().encode(opts.secret)
    const jwks = opts.jwksUrl ? createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: opts.jwksTimeoutMs ?? 2_000, cooldownDuration: 30_000 }) : undefined
    const claims: JWTVerifyOptions = {
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_S,
      ...(opts.issuer ? { issuer: opts.issuer } : {}),
      ...(opts.audience ? { audience: opts.audience } : {}),
    }

    const invalid = () => new AppError('AUTH_INVALID_TOKEN', 'Token signature or claims are not valid', INVALID)
    const audienceMatches = (aud: unknown) => aud === opts.audience || (Array.isArray(aud) && aud.includes(opts.audience))

    /** HS256 on node:crypto, synchronously (contracts/src/hs256.ts): the claims checks are jose's. */
    function verifyHmac(token: string): { payload: JwtPayload } {
      const payload = verifyHs256(hmacKey, token)
      if (!payload || typeof payload.exp !== 'number' || payload.sub === undefined) throw invalid()
      const problem = timeClaimsProblem(payload, Math.floor(Date.now() / 1000), CLOCK_TOLERANCE_S)
      if (problem === 'expired') throw new AppError('AUTH_TOKEN_EXPIRED', 'Token has expired', INVALID)
      if (problem) throw invalid()
      if (opts.issuer && payload.iss !== opts.issuer) throw invalid()
      if (opts.audience && !audienceMatches(payload.aud)) throw invalid()
      return { payload }
    }

    // An issuer writes the same few headers on every token: each is decoded once. Bounded and
    // evicting, so headers made up by a caller cannot keep the real ones out.
    const algOfHeader = new TwoGenerationCache<string, string>(HEADERS_REMEMBERED)
    function algorithmOf(token: string): string | undefined {
      const segment = token.slice(0, token.indexOf('.'))
      const known = algOfHeader.get(segment)
      if (known !== undefined) return known
      let alg: string | undefined
      try {
        alg = decodeProtectedHeader(token).alg
      } catch {
        throw new AppError('AUTH_INVALID_TOKEN', 'Token header is not valid', INVALID)
      }
      if (typeof alg === 'string') algOfHeader.set(segment, alg)
      return alg
    }

    async function verify(token: string) {
      const alg = algorithmOf(token)
      if (alg && HMAC_ALGORITHMS.includes(alg)) return verifyHmac(token)
      if (alg && jwks && JWKS_ALGORITHMS.includes(alg)) return jwtVerify(token, jwks, { ...claims, algorithms: JWKS_ALGORITHMS })
      throw new AppError('AUTH_INVALID_TOKEN', 'Token algorithm is not accepted', INVALID)
    }

    // Fans poll with the same token many times a minute: a token verified once is remembered (by its
    // exact text) until its exp, at most VERIFIED_TTL_MS so a key removed from the JWKS stops working soon.
    const verified = new TwoGenerationCache<string, { sub: string; until: number }>(VERIFIED_MAX)
    const remember = (token: string, sub: string, exp: number) => {
      verified.set(token, { sub, until: Math.min(exp * 1000, Date.now() + VERIFIED_TTL_MS) })
    }

    app.decorateRequest('userId', null)
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization
      if (!header) throw new AppError('AUTH_MISSING_TOKEN', 'Send Authorization: Bearer <token>', { headers: { 'www-authenticate': 'Bearer' } })
      const match = BEARER.exec(header)
      if (!match?.[1]) throw new AppError('AUTH_INVALID_TOKEN', 'Authorization must be Bearer <JWT>', INVALID)
      const known = verified.get(match[1])
      if (known && known.until > Date.now()) {
        request.userId = known.sub
        return
      }
      try {
        const { payload } = await verify(match[1])
        if (typeof payload.sub !== 'string' || !USER_ID.test(payload.sub)) throw new AppError('AUTH_INVALID_TOKEN', 'Token subject is not a valid user id', INVALID)
        // A token that lives for ever cannot be taken back: its expiry must be within the bound.
        if ((payload.exp as number) > Date.now() / 1000 + opts.maxLifetimeSeconds + CLOCK_TOLERANCE_S)
          throw new AppError('AUTH_INVALID_TOKEN', `Token expiry is more than ${opts.maxLifetimeSeconds} s ahead`, INVALID)
        request.userId = payload.sub
        remember(match[1], payload.sub, payload.exp as number)
      } catch (err) {
        if (err instanceof AppError) throw err
        if (err instanceof errors.JWTExpired) throw new AppError('AUTH_TOKEN_EXPIRED', 'Token has expired', INVALID)
        // The key set could not be fetched: our fault, not the caller's, so not a 401.
        if (err instanceof errors.JWKSTimeout || (err instanceof Error && !(err instanceof errors.JOSEError))) {
          request.log.warn({ err }, 'user token key set unavailable')
          throw new AppError('COMMON_DEPENDENCY_DOWN', 'Token keys are unavailable, retry later', { headers: { 'retry-after': '2' } })
        }
        throw new AppError('AUTH_INVALID_TOKEN', 'Token signature or claims are not valid', INVALID)
      }
    })
  },
  { name: 'auth' },
)
