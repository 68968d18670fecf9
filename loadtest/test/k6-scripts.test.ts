import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { soak, ticketOpen, tokenStorm } from '../src/scenarios.js'
import { startFakeGateway, type FakeGateway } from './helpers/fake-gateway.js'
import { runK6Script, type K6RunResult } from './k6-stand-in/run-k6-script.js'

const secret = 'a-load-test-secret-of-32-characters!'
const k6Dir = fileURLToPath(new URL('../k6/', import.meta.url))
const ITERATIONS = 3

function expectNoBreach(result: K6RunResult) {
  expect(result.violations).toEqual([])
  expect(result.initError).toBeNull()
  expect(result.aborted).toBeNull()
  expect(result.iterationErrors).toEqual([])
}

function samples(result: K6RunResult, metric: string) {
  return result.metrics[metric]?.samples ?? []
}

describe('the k6 scripts, run against the k6 stand-in and a stand-in gateway', () => {
  let gateway: FakeGateway
  const env = () => ({ BASE_URL: gateway.url, AUTH_JWT_SECRET: secret, CONCERT_ID: 'c1' })

  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, retryAfterOnJoin: 3, retryAfterWhileSeatsHeld: 7 })
  })
  afterAll(() => gateway.close())

  it('ticket-open: each fan joins, polls as told by Retry-After through ALL_SEATS_HELD, holds and pays, from its own address', async () => {
    const result = await runK6Script(join(k6Dir, 'ticket-open.ts'), { env: env(), iterations: ITERATIONS, seed: 4242 })
    expectNoBreach(result)
    const fans = [1, 2, 3].map((n) => `k6-ticket-open-${n}`)
    for (const fan of fans) {
      expect(gateway.routesOf(fan).slice(0, 3)).toEqual(['POST /api/queue/token', 'GET /api/queue/token', 'GET /api/queue/token'])
      expect(gateway.routesOf(fan)).toEqual(expect.arrayContaining(['GET /api/concerts/:id/schedules/:id/seats', 'POST /api/reservations', 'POST /api/payments']))
    }
    const addresses = new Set(gateway.requests.filter((r) => r.userId && fans.includes(r.userId)).map((r) => r.forwardedFor))
    expect(addresses.size).toBe(ITERATIONS)
    expect(result.sleeps.filter((s) => s === 3 || s === 7)).toEqual([3, 7, 3, 7, 3, 7])
    expect(samples(result, 'queue_polls_per_fan').map((s) => s.value)).toEqual([2, 2, 2])
    expect(samples(result, 'queue_poll_reasons').map((s) => s.tags.reason)).toEqual(['ALL_SEATS_HELD', 'ALL_SEATS_HELD', 'ALL_SEATS_HELD'])
    expect(samples(result, 'queue_wait').length).toBe(ITERATIONS)
    expect(samples(result, 'seats_sold').length).toBeGreaterThan(0)
    expect(result.checks.every((c) => c.ok)).toBe(true)
  })

  it('token-storm: joins, polls until admitted, and gives the slot back', async () => {
    const result = await runK6Script(join(k6Dir, 'token-storm.ts'), { env: env(), iterations: ITERATIONS })
    expectNoBreach(result)
    for (const n of [1, 2, 3]) {
      expect(gateway.routesOf(`k6-token-storm-${n}`)).toEqual(['POST /api/queue/token', 'GET /api/queue/token', 'GET /api/queue/token', 'DELETE /api/queue/token'])
    }
  })

  it('browse: reads the catalogue and a concert, each iteration from another address', async () => {
    const before = gateway.requests.length
    const result = await runK6Script(join(k6Dir, 'browse.ts'), { env: env(), iterations: ITERATIONS })
    expectNoBreach(result)
    const made = gateway.requests.slice(before)
    expect(made.map((r) => r.route)).toEqual(Array.from({ length: ITERATIONS }, () => ['GET /api/concerts', 'GET /api/concerts/:id/schedules']).flat())
    expect(new Set(made.map((r) => r.forwardedFor)).size).toBe(ITERATIONS)
  })

  it('soak: browses or buys, within the rules', async () => {
    const before = gateway.requests.length
    const result = await runK6Script(join(k6Dir, 'soak.ts'), { env: env(), iterations: 6, seed: 5 })
    expectNoBreach(result)
    const routes = gateway.requests.slice(before).map((r) => r.route)
    expect(routes).toContain('GET /api/concerts')
    expect(routes).toContain('POST /api/queue/token')
  })
})

describe('the k6 scripts, when the join challenge is on', () => {
  let gateway: FakeGateway
  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, retryAfterOnJoin: 1, retryAfterWhileSeatsHeld: 1, challengeDifficulty: 10 })
  })
  afterAll(() => gateway.close())

  it('token-storm: each fan solves the challenge its refused join carries, joins with the proof, and goes on as usual', async () => {
    const result = await runK6Script(join(k6Dir, 'token-storm.ts'), { env: { BASE_URL: gateway.url, AUTH_JWT_SECRET: secret, CONCERT_ID: 'c1' }, iterations: ITERATIONS })
    expectNoBreach(result)
    for (const n of [1, 2, 3]) {
      const fan = `k6-token-storm-${n}`
      expect(gateway.routesOf(fan)).toEqual(['POST /api/queue/token', 'POST /api/queue/token', 'GET /api/queue/token', 'GET /api/queue/token', 'DELETE /api/queue/token'])
      expect(gateway.requests.filter((r) => r.userId === fan && r.route === 'POST /api/queue/token').map((r) => r.proof === undefined)).toEqual([true, false])
    }
    expect(samples(result, 'challenge_solve').length).toBe(ITERATIONS)
    expect(samples(result, 'step_join_proof').length).toBe(ITERATIONS)
    expect(samples(result, 'unexpected_errors').every((s) => s.value === 0)).toBe(true)
  })
})

describe('the k6 ticket-open script with a pre-queue (PRE_QUEUE=1)', () => {
  let gateway: FakeGateway
  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, retryAfterOnJoin: 1, retryAfterWhileSeatsHeld: 1, preQueue: { seed: 'ef'.repeat(32), early: (u) => /-[12]$/.test(u) } })
  })
  afterAll(() => gateway.close())

  it('pre-queued fans poll until the draw places them, then wait their turn and buy, as the fans after the opening do', async () => {
    const result = await runK6Script(join(k6Dir, 'ticket-open.ts'), {
      env: { BASE_URL: gateway.url, AUTH_JWT_SECRET: secret, CONCERT_ID: 'c1', PRE_QUEUE: '1' },
      iterations: 4,
      seed: 7,
    })
    expectNoBreach(result)
    const polls = (n: number) => gateway.routesOf(`k6-ticket-open-pre-queue-${n}`).filter((r) => r.endsWith('/api/queue/token'))
    for (const n of [1, 2]) expect(polls(n)).toEqual(['POST /api/queue/token', ...Array(3).fill('GET /api/queue/token')])
    for (const n of [3, 4]) expect(polls(n)).toEqual(['POST /api/queue/token', ...Array(2).fill('GET /api/queue/token')])
    for (const n of [1, 2, 3, 4]) expect(gateway.routesOf(`k6-ticket-open-pre-queue-${n}`)).toContain('POST /api/payments')
    expect(samples(result, 'unexpected_errors').every((s) => s.value === 0)).toBe(true)
  })
})

describe('the k6 scripts, when no fan is ever admitted', () => {
  let gateway: FakeGateway
  beforeAll(async () => {
    gateway = await startFakeGateway({ secret, retryAfterOnJoin: 3, retryAfterWhileSeatsHeld: 60, neverAdmit: true })
  })
  afterAll(() => gateway.close())

  it.each([
    ['ticket-open.ts', ticketOpen().stay.lineSeconds],
    ['token-storm.ts', tokenStorm().stay.lineSeconds],
    ['soak.ts', soak().stay.lineSeconds],
  ])('%s: each fan waits its whole time in line, and the executor holds every fan until the last leaves', async (script, lineSeconds) => {
    const result = await runK6Script(join(k6Dir, script), { env: { BASE_URL: gateway.url, AUTH_JWT_SECRET: secret, CONCERT_ID: 'c1' }, iterations: ITERATIONS, seed: 5 })
    expectNoBreach(result)
    expect(Math.max(...result.iterationSeconds)).toBe(lineSeconds)
  })
})

describe('the k6 stand-in refuses what k6 refuses', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k6-rules-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  async function run(source: string) {
    const file = join(dir, `script-${Math.random().toString(36).slice(2)}.ts`)
    await writeFile(file, source)
    return runK6Script(file, { env: {}, iterations: 1 })
  }

  it('a Trend created inside the default function', async () => {
    const result = await run(`import { Trend } from 'k6/metrics'\nexport default function () { new Trend('late').add(1) }\n`)
    expect(result.violations).toEqual(['Trend "late" created during iteration: k6 creates metrics only in the init context'])
  })

  it('a threshold on a metric never declared, and an aggregation that does not fit the metric', async () => {
    const result = await run(
      `import { Counter } from 'k6/metrics'\nconst sold = new Counter('sold')\nexport const options = { thresholds: { step_join: ['p(95)<500'], sold: ['p(95)<1'], 'http_req_duration{step:join}': ['p(95)<500'], checks: ['rate>0.99'] } }\nexport default function () { sold.add(1) }\n`,
    )
    expect(result.violations).toEqual([
      'threshold on "step_join", a metric that was not declared in the init context (k6 aborts the test)',
      'threshold "sold": p(95) does not apply to a Counter',
    ])
  })

  it('an import k6 does not have', async () => {
    expect((await run(`import { Histogram } from 'k6/metrics'\nexport default function () { new Histogram('x') }\n`)).violations).toEqual([
      expect.stringContaining('No matching export'),
    ])
    expect((await run(`import { sleep } from 'k6/timers-of-my-own'\nexport default function () { sleep(1) }\n`)).violations).toEqual([expect.stringContaining('not a k6 module')])
  })

  it('a request without a body that says Content-Type', async () => {
    for (const [call, method] of [
      [`http.del('http://127.0.0.1:1/token', null, { headers: { 'Content-Type': 'application/json' } })`, 'DELETE'],
      [`http.get('http://127.0.0.1:1/token', { headers: { 'content-type': 'application/json' } })`, 'GET'],
    ]) {
      const result = await run(`import http from 'k6/http'\nexport default function () { ${call} }\n`)
      expect(result.violations).toEqual([`http ${method} http://127.0.0.1:1/token sends a Content-Type header without a body`])
    }
  })

  // Fans arrive at 0 to 20 a second over 10 s (100 in all) and each stays 60 s: all 100 are there at once.
  const line = (options: string) =>
    `import { sleep } from 'k6'\nexport const options = { scenarios: { line: { executor: 'ramping-arrival-rate', timeUnit: '1s', stages: [{ duration: '10s', target: 20 }], ${options} } } }\nexport default function () { sleep(60) }\n`

  it('an executor with fewer VUs than fans in line', async () => {
    expect((await run(line(`preAllocatedVUs: 50, gracefulStop: '60s'`))).violations).toEqual([
      'scenario "line": maxVUs 50 cannot hold the line: up to 100 fans are there at once (arrivals within 60 s, the longest iteration); k6 drops the others',
    ])
    expect((await run(line(`preAllocatedVUs: 50, maxVUs: 100, gracefulStop: '60s'`))).violations).toEqual([
      'scenario "line": preAllocatedVUs 50 leaves k6 to allocate up to 100 VUs while fans arrive',
    ])
    expect((await run(line(`preAllocatedVUs: 100, gracefulStop: '60s'`))).violations).toEqual([])
  })

  it('a run that ends before its last fan leaves', async () => {
    expect((await run(line(`preAllocatedVUs: 100`))).violations).toEqual([
      'scenario "line": the run ends 30 s before its last fan leaves: gracefulStop 30 s after the stages, iterations last 60 s',
    ])
  })

  it('an executor option k6 does not document', async () => {
    expect((await run(line(`preAllocatedVUs: 100, gracefulStop: '60s', maxDuration: '20m'`))).violations).toEqual([
      'scenario "line": "maxDuration" is not an option k6 documents for ramping-arrival-rate',
    ])
  })

  it('a request in the init context', async () => {
    const result = await run(`import http from 'k6/http'\nhttp.get('http://127.0.0.1:1/')\nexport default function () {}\n`)
    expect(result.initError).toContain('in the init context')
  })
})
