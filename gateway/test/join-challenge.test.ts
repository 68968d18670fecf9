// The join challenge, switched per concert on the admin listener's operator switches, in front of the real line.
import { createConcert } from '@tickets/booking-service/ops'
import { createHash } from 'node:crypto'
import { signUserToken } from '@tickets/contracts/auth'
import { solveChallenge, type Challenge } from '@tickets/contracts/queue-challenge'
import { lineControls } from '@tickets/queue-service/ops'
import { startThrowawayRedis } from '@tickets/testkit'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { OPERATOR_SECRET_HEADER } from '../src/operator.js'
import { anotherInstance, buildTestApp, OPERATOR_TEST_SECRET, TEST_SECRET } from './helpers/build-test-app.js'
import { realLine } from './helpers/real-services.js'
import { anUpstream } from './helpers/upstream.js'

const { bookingDb, bookingUrl, queueUrl, queue } = await realLine(import.meta.url, { ADMISSION_RATE_PER_SECOND: '1', INVENTORY_RESYNC_SECONDS: '3600' })
const upstreams = { QUEUE_URLS: queueUrl, BOOKING_URLS: bookingUrl, PAYMENT_URLS: bookingUrl, SWITCH_CACHE_MS: '100', OPERATOR_SECRET: OPERATOR_TEST_SECRET }
const { app: a, config } = await buildTestApp(import.meta.url, upstreams)
const b = await anotherInstance(config)
const operator = a.admin
const { concertId } = await createConcert(bookingDb, { title: 'Bots welcome', dates: 1, seatsPerSchedule: 100 })
const { concertId: otherConcert } = await createConcert(bookingDb, { title: 'No challenge', dates: 1, seatsPerSchedule: 100 })
const line = lineControls(queue.redis)

// A gateway on a Redis of its own, to hang it.
const lonelyRedis = await startThrowawayRedis()
afterAll(() => lonelyRedis.dispose())
const lonelyUpstream = await anUpstream('queue')
const lonelyUrls = {
  QUEUE_URLS: lonelyUpstream.url,
  BOOKING_URLS: lonelyUpstream.url,
  PAYMENT_URLS: lonelyUpstream.url,
  SWITCH_CACHE_MS: '100',
  REDIS_URL: lonelyRedis.url,
  OPERATOR_SECRET: OPERATOR_TEST_SECRET,
}
const { app: lonely } = await buildTestApp(import.meta.url, lonelyUrls)
const lonelyOperator = lonely.admin

type Gateway = typeof a
/** The switch is re-read every 100 ms; the bound is for a busy machine, where a join alone can take a second. */
const SWITCH_FOLLOWED_MS = 10_000
/** Fans holding a place, waiting or admitted: the line admits one a second meanwhile, which moves none out. */
const placesIn = async (id: string) => {
  const { waiting, active } = await line.status(id)
  return waiting + active
}
const asOperator = { [OPERATOR_SECRET_HEADER]: OPERATOR_TEST_SECRET }
const switchOn = (difficulty: number, id = concertId) => operator.inject({ method: 'PUT', url: `/switches/challenge/${id}`, headers: asOperator, payload: { difficulty } })
const switchOff = (id = concertId) => operator.inject({ method: 'DELETE', url: `/switches/challenge/${id}`, headers: asOperator })

async function join(app: Gateway, userId: string, proof?: string, id = concertId) {
  const authorization = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`
  return app.inject({ method: 'POST', url: '/api/queue/token', headers: { authorization, ...(proof === undefined ? {} : { 'x-queue-proof': proof }) }, payload: { concertId: id } })
}

function challengeOf(res: Awaited<ReturnType<typeof join>>, code: string): Challenge {
  expect(res.statusCode).toBe(403)
  expect(res.headers['content-type']).toContain('application/problem+json')
  const body = res.json()
  expect(body).toMatchObject({ code, status: 403, traceId: expect.any(String) })
  expect(body.challenge).toMatchObject({ algorithm: 'sha256-leading-zero-bits', nonce: expect.any(String), header: 'X-Queue-Proof' })
  return body.challenge
}

/** The same nonce with a counter whose hash falls short of `bits` zero bits: only the work is wrong. */
function shortOf(proof: string, bits: number): string {
  const nonce = proof.slice(0, proof.lastIndexOf(':'))
  for (let counter = 0; ; counter++) {
    const candidate = `${nonce}:${counter}`
    const digest = createHash('sha256').update(candidate).digest()
    if (digest.readUInt32BE(0) >>> (32 - bits) !== 0) return candidate
  }
}

/** Every instance follows the switch within about a second: wait until both refuse (or both let through). */
async function untilBothRefuse(refuse: boolean, userId: string) {
  await vi.waitFor(
    async () => {
      for (const app of [a, b]) expect((await join(app, userId)).statusCode === 403).toBe(refuse)
    },
    { timeout: SWITCH_FOLLOWED_MS, interval: 100 },
  )
}

describe('POST /api/queue/token with the join challenge', () => {
  it('when the challenge is off, then a join without a proof gets its place as before', async () => {
    expect((await join(a, 'off-1')).statusCode).toBe(201)
  })

  it('when switched on, then every instance refuses a join without a proof, with a challenge and no place', async () => {
    const on = await switchOn(8)
    expect(on.statusCode).toBe(200)
    expect(on.json().challenges).toEqual({ [concertId]: 8 })
    await untilBothRefuse(true, 'probe-1')
    const before = await placesIn(concertId)
    for (const app of [a, b]) expect(challengeOf(await join(app, 'bot-1'), 'QUEUE_CHALLENGE_REQUIRED').difficulty).toBe(8)
    expect(await placesIn(concertId)).toBe(before)
    expect((await join(a, 'bot-1', undefined, otherConcert)).statusCode).toBe(201)
  })

  it('when the join carries a solved challenge, then it gets its place, and the same proof again gets the same place', async () => {
    const challenge = challengeOf(await join(a, 'fan-1'), 'QUEUE_CHALLENGE_REQUIRED')
    const proof = solveChallenge(challenge)
    const first = await join(a, 'fan-1', proof)
    expect(first.statusCode).toBe(201)
    const again = await join(b, 'fan-1', proof)
    expect(again.statusCode).toBe(201)
    expect(again.json().position).toBe(first.json().position)
  })

  it("when a proof is wrong, another fan's, or for an easier difficulty, then 403 QUEUE_CHALLENGE_FAILED with a new challenge", async () => {
    const proof = solveChallenge(challengeOf(await join(a, 'fan-2'), 'QUEUE_CHALLENGE_REQUIRED'))
    const nonce = proof.slice(0, proof.lastIndexOf(':'))
    for (const wrong of [`${nonce}:x`, 'junk', shortOf(proof, 8)]) challengeOf(await join(a, 'fan-2', wrong), 'QUEUE_CHALLENGE_FAILED')
    const stolen = challengeOf(await join(a, 'fan-3', proof), 'QUEUE_CHALLENGE_FAILED')
    expect(stolen.nonce).not.toBe(nonce)
    expect((await join(a, 'fan-3', solveChallenge(stolen))).statusCode).toBe(201)

    await switchOn(10)
    // Each instance reads the switch on its own clock: wait until both ask for the harder work.
    await vi.waitFor(
      async () => {
        for (const app of [a, b]) challengeOf(await join(app, 'fan-2', proof), 'QUEUE_CHALLENGE_FAILED')
      },
      { timeout: SWITCH_FOLLOWED_MS, interval: 100 },
    )
    const harder = challengeOf(await join(b, 'fan-2', proof), 'QUEUE_CHALLENGE_FAILED')
    expect(harder.difficulty).toBe(10)
    expect((await join(b, 'fan-2', solveChallenge(harder))).statusCode).toBe(201)
  })

  it('when switched off, then every instance takes joins without a proof again', async () => {
    const off = await switchOff()
    expect(off.json().challenges).toEqual({})
    await untilBothRefuse(false, 'probe-2')
    expect((await join(a, 'after-1')).statusCode).toBe(201)
  })

  it('when the difficulty or the concert id is out of range, then the operator answers 400 and nothing is switched', async () => {
    for (const payload of [{ difficulty: 0 }, { difficulty: 29 }, { difficulty: 1.5 }, { difficulty: 'hard' }, {}, { difficulty: 8, extra: 1 }]) {
      expect((await operator.inject({ method: 'PUT', url: `/switches/challenge/${concertId}`, headers: asOperator, payload })).statusCode).toBe(400)
    }
    expect((await switchOn(8, 'not%20an%20id')).statusCode).toBe(400)
    expect((await operator.inject({ method: 'GET', url: '/switches', headers: asOperator })).json().challenges).toEqual({})
  })
})

describe('the join challenge without Redis', () => {
  it('when Redis hangs, then the switch last read still refuses joins without a proof, from memory', async () => {
    await lonelyOperator.inject({ method: 'PUT', url: '/switches/challenge/c-1', headers: asOperator, payload: { difficulty: 4 } })
    await vi.waitFor(async () => expect((await join(lonely, 'u-1', undefined, 'c-1')).statusCode).toBe(403), { timeout: SWITCH_FOLLOWED_MS, interval: 100 })
    const before = lonelyUpstream.received.length
    await lonelyRedis.pause()
    try {
      const refused = await join(lonely, 'u-2', undefined, 'c-1')
      const proof = solveChallenge(challengeOf(refused, 'QUEUE_CHALLENGE_REQUIRED'))
      expect((await join(lonely, 'u-2', proof, 'c-1')).statusCode).toBe(200)
      expect(lonelyUpstream.received.slice(before).map((r) => r.headers['x-user-id'])).toEqual(['u-2'])
    } finally {
      lonelyRedis.resume()
    }
  })
})
