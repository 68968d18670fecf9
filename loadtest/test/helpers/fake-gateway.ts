import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { secretKey } from '@tickets/contracts/auth'
import { verifyHs256 } from '@tickets/contracts/hs256'
import { DRAW_ALGORITHM, drawOrder, entryIdOf, seedHashOf } from '@tickets/contracts/draw'
import { challengeKey, checkProof, issueChallenge } from '@tickets/contracts/queue-challenge'
import { queueTokenKey, signQueueToken, verifyQueueToken } from '@tickets/contracts/queue-token'

export interface RecordedRequest {
  at: number
  method: string
  /** Path with ids replaced by `:id`, e.g. `GET /api/concerts/:id/schedules`. */
  route: string
  userId: string | null
  forwardedFor: string | undefined
  idempotencyKey: string | undefined
  /** X-Queue-Proof, on a join. */
  proof: string | undefined
}

export interface FakeGatewayOptions {
  secret: string
  /** The admission step of the fan with this seq: fans with the same step share `activeUntil`. */
  admissionStep?: (seq: number) => number
  /** Fans with this seq are told SOLD_OUT where the others are admitted. */
  soldOut?: (seq: number) => boolean
  retryAfterOnJoin?: number
  retryAfterWhileSeatsHeld?: number
  /** Every poll answers WAITING (ALL_SEATS_HELD): fans wait until they give up. */
  neverAdmit?: boolean
  /** The join challenge on at this difficulty, judged with the gateway's own functions. */
  challengeDifficulty?: number
  /**
   * A pre-queue: the users it says are early join it (PRE_QUEUE, a seq 0 token); the first poll of a
   * pre-queue token draws the order with the contracts' functions and places them from arrival
   * number 1, later joins from 101. `publishedSeed`: the seed the draw routes reveal (another one
   * than the draw's is a tampered draw).
   */
  preQueue?: { seed: string; early: (userId: string) => boolean; publishedSeed?: string }
}

const SEATS = 10
const ACTIVE_MS = 600_000

/**
 * The gateway routes the load scripts call, answered the way the real services do (shapes from the
 * API contract), on a real port: user tokens are checked with the secret, queue tokens are real
 * waiting-room tokens with a `seq`. Each fan polls twice: first WAITING with ALL_SEATS_HELD, then
 * ACTIVE (or SOLD_OUT).
 */
export async function startFakeGateway(opts: FakeGatewayOptions) {
  const queueKey = queueTokenKey(opts.secret)
  const proofKey = challengeKey(opts.secret)
  const userKey = secretKey(opts.secret)
  const admissionBase = Date.parse('2030-01-01T00:00:00Z')
  const requests: RecordedRequest[] = []
  const seqs = new Map<string, number>()
  const polls = new Map<string, number>()
  const heldSeats = new Set<number>()
  let reservations = 0
  const entries = new Map<string, string>()
  let drawn: { digest: string; order: string[] } | null = null
  let lateJoins = 0

  // The stand-in has no opening: the draw is made again when an early fan joined after it.
  function drawnPlace(userId: string): number {
    if (drawn?.order.length !== entries.size) drawn = drawOrder(opts.preQueue!.seed, [...entries.values()])
    return drawn.order.indexOf(entries.get(userId)!) + 1
  }

  function drawRoute(res: ServerResponse, path: string, query: URLSearchParams) {
    if (!drawn) return problem(res, 404, 'QUEUE_DRAW_NOT_FOUND')
    const seed = opts.preQueue!.publishedSeed ?? opts.preQueue!.seed
    const at = new Date(admissionBase).toISOString()
    if (path.endsWith('/entries')) {
      const offset = Number(query.get('offset') ?? 0)
      return send(res, 200, { concertId: 'c1', entries: drawn.order.length, offset, order: drawn.order.slice(offset, offset + Number(query.get('limit') ?? 1_000)) })
    }
    const info = { concertId: 'c1', status: 'DRAWN', algorithm: DRAW_ALGORITHM, opensAt: at, preQueueOpensAt: at, seedHash: seedHashOf(opts.preQueue!.seed), committedAt: at }
    return send(res, 200, { ...info, entries: drawn.order.length, digest: drawn.digest, seed, drawnAt: at, firstArrivalNumber: 1 })
  }

  function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, body === undefined ? headers : { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers })
    res.end(body === undefined ? undefined : JSON.stringify(body))
  }

  function problem(res: ServerResponse, status: number, code: string, extra: Record<string, unknown> = {}) {
    send(res, status, { type: `/errors/${code.toLowerCase()}`, title: code, status, code, ...extra })
  }

  async function queueToken(userId: string, status: 'WAITING' | 'ACTIVE', seq: number) {
    const now = Math.floor(Date.now() / 1000)
    return signQueueToken(queueKey, { userId, concertId: 'c1', status, seq, issuedAt: now, expiresAt: now + 600 })
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const path = (req.url ?? '/').split('?')[0]!
    const route = `${req.method} ${path.replace(/^(\/api\/concerts)\/(?!ranking)[^/]+/, '$1/:id').replace(/(\/schedules)\/[^/]+/, '$1/:id')}`
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const claims = bearer ? verifyHs256(userKey, bearer) : undefined
    const userId = typeof claims?.sub === 'string' ? claims.sub : null
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined)
    requests.push({
      at: Date.now(),
      method: req.method ?? '',
      route,
      userId,
      forwardedFor: header('x-forwarded-for'),
      idempotencyKey: header('idempotency-key'),
      proof: header('x-queue-proof'),
    })

    if (opts.preQueue && path.startsWith('/api/queue/draws/c1')) return drawRoute(res, path, new URLSearchParams((req.url ?? '').split('?')[1] ?? ''))
    if (route === 'GET /api/concerts') return send(res, 200, { concerts: [{ concertId: 'c1', title: 'Fake', artist: 'Nobody' }] })
    if (route === 'GET /api/concerts/:id/schedules')
      return send(res, 200, { schedules: [{ scheduleId: 's1', startsAt: '2030-06-01T19:00:00Z', availableSeats: SEATS - heldSeats.size }] })
    if (!userId) return problem(res, 401, 'AUTH_INVALID_TOKEN')

    const queue = header('x-queue-token')
    const verdict = queue ? await verifyQueueToken(queueKey, queue, { nowMs: Date.now() }) : undefined
    if (route === 'POST /api/queue/token') {
      const difficulty = opts.challengeDifficulty
      if (difficulty !== undefined) {
        const who = { concertId: (JSON.parse(body) as { concertId: string }).concertId, userId }
        const proof = header('x-queue-proof')
        if (!proof || !checkProof(proofKey, proof, who, difficulty).ok) {
          return problem(res, 403, proof ? 'QUEUE_CHALLENGE_FAILED' : 'QUEUE_CHALLENGE_REQUIRED', { challenge: issueChallenge(proofKey, who, difficulty) })
        }
      }
      if (opts.preQueue?.early(userId)) {
        const salt = `${entries.size + 1}`.padStart(32, '0')
        if (!entries.has(userId)) entries.set(userId, entryIdOf(userId, salt))
        const preQueued = { status: 'PRE_QUEUE', position: 0, estimatedWaitSeconds: 1, estimatedWaitRangeSeconds: [1, 1], preQueued: entries.size, drawing: false }
        const entry = { entryId: entries.get(userId), entrySalt: salt, opensAt: new Date(admissionBase).toISOString() }
        return send(res, 201, { token: await queueToken(userId, 'WAITING', 0), ...preQueued, ...entry }, { 'retry-after': String(opts.retryAfterOnJoin ?? 1) })
      }
      const seq = seqs.get(userId) ?? (opts.preQueue ? 100 + ++lateJoins : seqs.size + 1)
      seqs.set(userId, seq)
      const waitRange = [seq, 3 * seq]
      return send(
        res,
        201,
        { token: await queueToken(userId, 'WAITING', seq), status: 'WAITING', position: seq, estimatedWaitSeconds: 2 * seq, estimatedWaitRangeSeconds: waitRange },
        { 'retry-after': String(opts.retryAfterOnJoin ?? 1) },
      )
    }
    if (!verdict?.ok || verdict.claims.userId !== userId) return problem(res, 403, 'QUEUE_TOKEN_INVALID')
    const { seq } = verdict.claims
    if (route === 'GET /api/queue/token' && seq === 0) {
      const place = drawnPlace(userId)
      const waiting = { status: 'WAITING', position: place, estimatedWaitSeconds: place, estimatedWaitRangeSeconds: [place, place] }
      return send(res, 200, { ...waiting, token: await queueToken(userId, 'WAITING', place) }, { 'retry-after': String(opts.retryAfterWhileSeatsHeld ?? 1) })
    }
    if (route === 'GET /api/queue/token') {
      const n = (polls.get(userId) ?? 0) + 1
      polls.set(userId, n)
      if (n === 1 || opts.neverAdmit) {
        const nextReleaseAt = new Date(Date.now() + 120_000).toISOString()
        return send(
          res,
          200,
          { status: 'WAITING', position: seq, estimatedWaitSeconds: 60, estimatedWaitRangeSeconds: [30, 120], reason: 'ALL_SEATS_HELD', seatsOnHold: SEATS, nextReleaseAt },
          { 'retry-after': String(opts.retryAfterWhileSeatsHeld ?? 1) },
        )
      }
      if (opts.soldOut?.(seq)) return send(res, 200, { status: 'SOLD_OUT', position: 0, estimatedWaitSeconds: 0, estimatedWaitRangeSeconds: [0, 0] })
      const activeUntil = new Date(admissionBase + (opts.admissionStep?.(seq) ?? seq) * 1_000 + ACTIVE_MS).toISOString()
      return send(
        res,
        200,
        { status: 'ACTIVE', position: 0, estimatedWaitSeconds: 0, estimatedWaitRangeSeconds: [0, 0], activeUntil, token: await queueToken(userId, 'ACTIVE', seq) },
        { 'retry-after': '1' },
      )
    }
    if (route === 'DELETE /api/queue/token') return send(res, 204)
    if (verdict.claims.status !== 'ACTIVE') return problem(res, 403, 'QUEUE_NOT_ACTIVE')
    if (route === 'GET /api/concerts/:id/schedules/:id/seats') {
      return send(res, 200, {
        seats: Array.from({ length: SEATS }, (_, i) => ({ seatNumber: i + 1, grade: 'R', price: 100, status: heldSeats.has(i + 1) ? 'HELD' : 'AVAILABLE' })),
      })
    }
    if (route === 'POST /api/reservations') {
      const { seatNumber } = JSON.parse(body) as { seatNumber: number }
      if (heldSeats.has(seatNumber)) return problem(res, 409, 'BOOKING_SEAT_TAKEN')
      heldSeats.add(seatNumber)
      return send(res, 201, { reservationId: `r${++reservations}`, status: 'HELD', price: 100, expiresAt: new Date(Date.now() + 300_000).toISOString() })
    }
    if (route === 'GET /api/points') return send(res, 200, { balance: 0 })
    if (!header('idempotency-key')) return problem(res, 400, 'PAYMENT_IDEMPOTENCY_KEY_REQUIRED')
    if (route === 'POST /api/points/charge') return send(res, 200, { balance: (JSON.parse(body) as { amount: number }).amount })
    if (route === 'POST /api/payments') {
      const { reservationId } = JSON.parse(body) as { reservationId: string }
      return send(res, 201, { paymentId: `p-${reservationId}`, reservationId, amount: 100, status: 'COMPLETED' })
    }
    return problem(res, 404, 'NOT_FOUND')
  }

  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => {
      handle(req, res, body).catch(() => problem(res, 500, 'INTERNAL'))
    })
  })
  server.listen({ port: 0, host: '127.0.0.1' })
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** The routes one user called, in order. */
    routesOf: (userId: string) => requests.filter((r) => r.userId === userId).map((r) => r.route),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
export type FakeGateway = Awaited<ReturnType<typeof startFakeGateway>>
