// npm start's stack on throw-away MariaDB, Redis and NATS, each paused (SIGSTOP) in turn for 20 s,
// longer than a readiness probe's two failures (5 s x 2). Readiness must stay 200 on every instance,
// the outage must show in dependency health, and the route that needs the paused dependency must
// answer the designed 503 with Retry-After, never a 500 or a hang. Nothing here times how answers split.
import { createConcert } from '@tickets/booking-service/ops'
import { queueTokenKey, signQueueToken } from '@tickets/contracts/queue-token'
import { timedFetch, type TimedAnswer } from '@tickets/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDrillStack, type DrillStack } from '../../src/drill/stack.js'

const PAUSE_MS = 20_000
// A hang ends in the gateway's 504 at the route's deadline (reads 1 s, writes 5 s, payments 8 s). The slowest designed answer is a
// payment's while NATS hangs: 503 at booking's RPC deadline (BOOKING_RPC_TIMEOUT_MS, 3 s).
const ANSWER_WITHIN_MS = 8_000

let stack: DrillStack
let concertId: string
beforeAll(async () => {
  stack = await startDrillStack()
  ;({ concertId } = await createConcert(stack.bookingDb, { title: 'Readiness under outages', dates: 1, seatsPerSchedule: 10 }))
}, 180_000)
afterAll(() => stack?.stop(), 60_000)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let fan = 0
async function asFan(): Promise<Record<string, string>> {
  const userId = `outage-${++fan}`
  const now = Math.floor(Date.now() / 1000)
  const queueToken = await signQueueToken(queueTokenKey(stack.opsEnv.AUTH_JWT_SECRET ?? ''), { userId, concertId, status: 'ACTIVE', seq: 1, issuedAt: now, expiresAt: now + 600 })
  return { authorization: `Bearer ${await stack.userToken(userId)}`, 'x-queue-token': queueToken, 'x-forwarded-for': `10.0.0.${fan % 250}` }
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
const call = (path: string, init: RequestInit = {}) => timedFetch(`${stack.gateway}${path}`, { ...init, signal: AbortSignal.timeout(15_000) })
const join = async () => call('/api/queue/token', { ...json({ concertId }), headers: { ...(await asFan()), 'content-type': 'application/json' } })
const balance = async () => call('/api/points', { headers: await asFan() })
const pay = async () =>
  call('/api/payments', {
    ...json({ reservationId: crypto.randomUUID() }),
    headers: { ...(await asFan()), 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() },
  })

const statusOf = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
    async (r) => ({ status: r.status, body: (await r.json()) as { dependencies?: Record<string, { status: string }> } }),
    () => ({ status: 0, body: {} }),
  )
const allDependenciesUp = async () => (await Promise.all(stack.adminUrls.map((u) => statusOf(`${u}/health/dependencies`)))).every((r) => r.status === 200)

/** What always holds of an answer: in time, and a success, a client error or a designed 503 (a problem with Retry-After and the trace id). */
const acceptable = (a: TimedAnswer) =>
  a.ms < ANSWER_WITHIN_MS &&
  (a.status < 500 ||
    // 503, or the gateway's 504 at a route's deadline (a read slower than 1 s on a starved machine), each asking to retry.
    ((a.status === 503 || (a.status === 504 && a.body.code === 'COMMON_UPSTREAM_TIMEOUT')) &&
      Number(a.retryAfter) > 0 &&
      (a.type?.includes('application/problem+json') ?? false) &&
      /^[0-9a-f]{32}$/.test(String(a.body.traceId))))

describe('readiness while a shared dependency hangs', () => {
  for (const phase of [
    { name: 'Redis', server: () => stack.redis, dependency: 'redis', needs: join },
    { name: 'MariaDB', server: () => stack.mariadb, dependency: 'database', needs: balance },
    { name: 'NATS', server: () => stack.nats, dependency: 'nats', needs: pay },
  ]) {
    it(`when ${phase.name} hangs 20 s, then every instance stays ready, health says DOWN, its routes answer 503s`, async () => {
      await expect.poll(allDependenciesUp, { timeout: 30_000, interval: 250 }).toBe(true)
      const readiness: number[] = []
      const needing: TimedAnswer[] = []
      const others: TimedAnswer[] = []
      let seenDown = false
      await phase.server().pause()
      try {
        const until = Date.now() + PAUSE_MS
        while (Date.now() < until) {
          const [ready, health, answer, catalogue] = await Promise.all([
            Promise.all(stack.adminUrls.map((u) => statusOf(`${u}/health/ready`))),
            Promise.all(stack.adminUrls.map((u) => statusOf(`${u}/health/dependencies`))),
            phase.needs(),
            call('/api/concerts'),
          ])
          readiness.push(...ready.map((r) => r.status))
          seenDown ||= health.some((h) => h.body.dependencies?.[phase.dependency]?.status === 'DOWN')
          needing.push(answer)
          others.push(catalogue)
          await sleep(250)
        }
      } finally {
        phase.server().resume()
      }
      expect(readiness.length).toBeGreaterThan(0)
      expect(readiness.filter((s) => s !== 200)).toEqual([])
      expect(seenDown).toBe(true)
      expect(needing.filter((a) => a.status === 503).length).toBeGreaterThan(0)
      expect(needing.filter((a) => !acceptable(a))).toEqual([])
      expect(others.filter((a) => !acceptable(a))).toEqual([])
      await expect.poll(allDependenciesUp, { timeout: 30_000, interval: 250 }).toBe(true)
    }, 90_000)
  }
})
