import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '@tickets/contracts/auth'
import { createClient } from '../src/runner/client.js'
import { runJourney, type JourneyContext } from '../src/runner/journeys.js'
import { readPublishedDraw } from '../src/runner/published-draw.js'
import { Stats } from '../src/runner/stats.js'
import { ticketOpen, ticketOpenPreQueue, tokenStorm } from '../src/scenarios.js'
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js'

const secret = 'a-load-test-secret-of-32-characters!'
// seq 1 -> step 2, seq 2 -> step 1, seq 3 and 4 -> step 3: one discordant pair of five compared
const STEPS = [2, 1, 3, 3]

/** Fans `<prefix>-1` to `<prefix>-<count>`, each from its own address in `subnet`, through one journey each; then the client closes. */
async function runFans(ctx: JourneyContext, prefix: string, subnet: string, count: number) {
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const userId = `${prefix}-${i + 1}`
      await runJourney(ctx, { userId, token: await signUserToken({ secret, userId }), ip: `${subnet}.${i + 1}` })
    }),
  )
  await ctx.client.close()
}

describe('the runner in the waiting room (against a stand-in gateway)', () => {
  let gateway: FakeGateway
  const stats = new Stats()

  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, admissionStep: (seq) => STEPS[seq - 1] ?? 9, soldOut: (seq) => seq === 5, retryAfterOnJoin: 1, retryAfterWhileSeatsHeld: 2 })
    const client = createClient(gateway.url, stats, { connections: 8 })
    const scenario = { ...ticketOpen({ users: 5, rampSeconds: 1 }), thinkMs: { min: 0, max: 0 }, mix: { abandonInLine: 0, abandonHold: 0, chargeFirst: 0 } }
    let seed = 1
    const ctx: JourneyContext = { scenario, client, stats, concertId: 'c1', deadline: Date.now() + 30_000, random: () => (seed = (seed * 16807) % 2147483647) / 2147483647 }
    await runFans(ctx, 'fan', '10.0.0', 5)
  }, 20_000)

  afterAll(() => gateway.close())

  it('waits exactly as long as each Retry-After says, the 2 s of an ALL_SEATS_HELD answer included', () => {
    for (let n = 1; n <= 5; n++) {
      const [join, firstPoll, secondPoll] = gateway.requests.filter((r) => r.userId === `fan-${n}` && r.route.endsWith('/api/queue/token'))
      expect(firstPoll!.at - join!.at).toBeGreaterThanOrEqual(950)
      expect(secondPoll!.at - firstPoll!.at).toBeGreaterThanOrEqual(1_950)
    }
  })

  it('buys once admitted, each fan from its own address', () => {
    for (let n = 1; n <= 4; n++) expect(gateway.routesOf(`fan-${n}`)).toEqual(expect.arrayContaining(['POST /api/reservations', 'POST /api/payments']))
    expect(new Set(gateway.requests.map((r) => r.forwardedFor))).toEqual(new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']))
  })

  it('stops at SOLD_OUT: no more polls, no seat map', () => {
    expect(gateway.routesOf('fan-5')).toEqual(['POST /api/queue/token', 'GET /api/queue/token', 'GET /api/queue/token'])
  })

  it('notes each paid seat and the fan told SOLD_OUT, for the report of when the sell-out was heard', () => {
    const { sellOut } = stats.line.summary()
    expect(sellOut).toMatchObject({ told: 1 })
    expect(sellOut.lastSaleAt).toBeGreaterThanOrEqual(stats.startedAt)
    expect(sellOut.heardSeconds).not.toBeNull()
  })

  it('reports the poll budget, the reasons, the admission order and the waits', () => {
    const line = stats.line.summary()
    expect(line).toMatchObject({ fansJoined: 5, admitted: 4, pollsPerFan: { mean: 2, p95: 2, max: 2 }, reasons: { ALL_SEATS_HELD: 5, PAUSED: 0, NOT_OPEN_YET: 0 } })
    expect(line.admissionOrder).toMatchObject({ tau: 0.6, fans: 4, pairs: 5 })
    expect(line.waitSeconds.max).toBeGreaterThanOrEqual(2.9)
    expect(line.waitSeconds.max).toBeLessThan(10)
  })
})

describe('the runner when the join challenge is on (against a stand-in gateway)', () => {
  let gateway: FakeGateway
  const stats = new Stats()

  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, challengeDifficulty: 10, retryAfterOnJoin: 0, retryAfterWhileSeatsHeld: 0 })
    const client = createClient(gateway.url, stats, { connections: 4 })
    const ctx: JourneyContext = { scenario: tokenStorm(), client, stats, concertId: 'c1', deadline: Date.now() + 30_000, random: () => 0.5 }
    await runFans(ctx, 'pow', '10.0.1', 2)
  }, 20_000)

  afterAll(() => gateway.close())

  it('solves the challenge the refused join carries and joins again with its proof, then waits in line as usual', () => {
    for (const fan of ['pow-1', 'pow-2']) {
      const joins = gateway.requests.filter((r) => r.userId === fan && r.route === 'POST /api/queue/token')
      expect(joins.map((r) => r.proof === undefined)).toEqual([true, false])
      expect(gateway.routesOf(fan)).toEqual(['POST /api/queue/token', 'POST /api/queue/token', 'GET /api/queue/token', 'GET /api/queue/token', 'DELETE /api/queue/token'])
    }
  })

  it('counts the refusals as expected answers and the joins with a proof as their own step', () => {
    expect(stats.unexpected).toBe(0)
    expect(stats.statusByStep.get('join')).toEqual({ '403': 2 })
    expect(stats.statusByStep.get('join_proof')).toEqual({ '201': 2 })
  })
})

describe('the runner with a pre-queue (against a stand-in gateway)', () => {
  const SEED = 'ab'.repeat(32)
  let gateway: FakeGateway
  let tampered: FakeGateway
  const stats = new Stats()

  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, retryAfterOnJoin: 1, retryAfterWhileSeatsHeld: 0, preQueue: { seed: SEED, early: (u) => u.startsWith('early') } })
    tampered = await startFakeGateway({ secret, preQueue: { seed: SEED, early: () => true, publishedSeed: 'cd'.repeat(32) } })
    const client = createClient(gateway.url, stats, { connections: 8 })
    const scenario = { ...ticketOpenPreQueue({ users: 7, rampSeconds: 2 }), thinkMs: { min: 0, max: 0 }, mix: { abandonInLine: 0, abandonHold: 0, chargeFirst: 0 } }
    const ctx: JourneyContext = { scenario, client, stats, concertId: 'c1', deadline: Date.now() + 30_000, random: () => 0.5 }
    const fans = [...[1, 2, 3, 4].map((n) => `early-${n}`), ...[1, 2, 3].map((n) => `late-${n}`)]
    await Promise.all(fans.map(async (userId, n) => runJourney(ctx, { userId, token: await signUserToken({ secret, userId }), ip: `10.0.2.${n + 1}` })))
    await client.close()
    stats.line.publishedDraw(await readPublishedDraw(gateway.url, 'c1'))
  }, 20_000)

  afterAll(async () => {
    await gateway.close()
    await tampered.close()
  })

  it('follows pre-queued fans to their drawn places and checks them, and their admission, against the published draw', () => {
    const line = stats.line.summary()
    expect(line.draw).toMatchObject({ fans: 4, placed: 4, recomputed: true, problems: [], placesChecked: 4, placesMatching: 4 })
    expect(line.draw!.admissionOrder).toMatchObject({ tau: 1, fans: 4, pairs: 6 })
  })

  it('measures the general line apart from the drawn fans: its Kendall tau is 1 over the late fans alone', () => {
    expect(stats.line.summary().admissionOrder).toMatchObject({ tau: 1, fans: 3, pairs: 3 })
  })

  it('when the revealed seed is not the one the order was drawn with, then the draw is reported as not matching', async () => {
    const client = createClient(tampered.url, new Stats(), { connections: 1 })
    const ctx: JourneyContext = { scenario: tokenStorm(), client, stats: new Stats(), concertId: 'c1', deadline: Date.now() + 10_000, random: () => 0.5 }
    await runJourney(ctx, { userId: 'early-x', token: await signUserToken({ secret, userId: 'early-x' }), ip: '10.0.3.1' })
    await client.close()
    expect(await readPublishedDraw(tampered.url, 'c1')).toMatchObject({ recomputed: false, problems: expect.arrayContaining(['SEED_DOES_NOT_MATCH_ITS_HASH']) })
  }, 20_000)
})
