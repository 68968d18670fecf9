import { createHash, randomUUID } from 'node:crypto'
import { AppError } from '@tickets/contracts/errors'
import { userIdOf } from '@tickets/shared/http'
import { repeat, type BackgroundWork } from '@tickets/shared/background'
import { databaseTrouble } from '@tickets/shared/db-errors'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { IdempotencyStore, KeyRef } from '../adapters/mariadb-idempotency-store.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route requires an Idempotency-Key (docs/api.md **idem**). */
    idempotent?: boolean
  }
  interface FastifyRequest {
    idempotency?: KeyRef & IdempotentRun
  }
}

export const IDEMPOTENCY_HEADER = 'idempotency-key'
const KEY = /^[\x21-\x7e]{1,64}$/

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

/** What "the same request" means: method, path and body (key order aside). */
export function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(JSON.stringify([request.method, request.url.split('?')[0], canonical(request.body ?? null)]))
    .digest('hex')
}

export interface IdempotentRun {
  /**
   * Names the use of the Idempotency-Key being run: the same across a re-run after a crash, new
   * once an expired key is used again. Derive business ids from it.
   */
  requestId: string
  /** Never run before: nothing derived from requestId exists yet (false for a re-run after a crash). */
  firstRun: boolean
}

/** The use of the Idempotency-Key being run (routes marked idempotent only). */
export function idempotentRun(request: FastifyRequest): IdempotentRun {
  if (!request.idempotency) throw new Error('route is not marked idempotent')
  const { requestId, firstRun } = request.idempotency
  return { requestId, firstRun }
}

export interface IdempotencyOptions {
  store: IdempotencyStore
  onReplay?: (route: string) => void
}

/**
 * Idempotency-Key for every route with `config: { idempotent: true }`: claims the key before the
 * handler runs, stores the answer (status and body) as it is sent, replays it for the same request,
 * refuses another request under the same key (422) and a concurrent one (409). 5xx answers are not
 * kept: the failure was ours, so the same key may try again.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, opts: IdempotencyOptions) => {
    const { store } = opts
    const log = app.log.child({ component: 'idempotency' })

    app.addHook('preHandler', async (request, reply) => {
      if (!request.routeOptions.config.idempotent) return
      const userId = userIdOf(request)
      const key = request.headers[IDEMPOTENCY_HEADER]
      if (key === undefined) throw new AppError('IDEMPOTENCY_KEY_MISSING', 'Send an Idempotency-Key header (1 to 64 visible characters) naming this request')
      if (typeof key !== 'string' || !KEY.test(key)) throw new AppError('IDEMPOTENCY_KEY_INVALID')
      const ref: KeyRef = { userId, key, owner: randomUUID() }
      const claim = await store.claim(ref, requestHash(request))
      if (claim.kind === 'mismatch') throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was first used with another request; use a new key')
      if (claim.kind === 'in_progress') {
        throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'The first request with this Idempotency-Key is still running', { headers: { 'retry-after': '1' } })
      }
      if (claim.kind === 'done') {
        opts.onReplay?.(request.routeOptions.url ?? 'unmatched')
        return reply.code(claim.response.status).type(claim.response.contentType).header('idempotent-replayed', 'true').send(claim.response.body)
      }
      request.idempotency = { ...ref, requestId: claim.requestId, firstRun: claim.firstRun }
    })

    app.addHook('onSend', async (request, reply, payload) => {
      const ref = request.idempotency
      if (!ref) return payload
      request.idempotency = undefined
      try {
        if (reply.statusCode >= 500 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) await store.release(ref)
        else await store.complete(ref, { status: reply.statusCode, contentType: String(reply.getHeader('content-type') ?? 'application/json'), body: payload.toString() })
      } catch (err) {
        // The answer still goes out; the key's lease runs out and a retry re-runs the (idempotent) work.
        // A database too busy or down to take it is the outage the 503s already report, not a bug.
        if (databaseTrouble(err)) log.warn({ err, key: ref.key }, 'idempotency record not saved: the database could not take it')
        else log.error({ err, key: ref.key }, 'idempotency record not saved')
      }
      return payload
    })
  },
  { name: 'idempotency', fastify: '5.x' },
)

/** Deletes expired keys every `intervalMs`. */
export function startIdempotencySweeper(store: IdempotencyStore, opts: { intervalMs: number; log: FastifyBaseLogger }): BackgroundWork {
  return repeat(
    async () => {
      await store.sweep().catch((err: unknown) => opts.log.warn({ err }, 'idempotency sweep failed'))
    },
    { intervalMs: opts.intervalMs },
  )
}
