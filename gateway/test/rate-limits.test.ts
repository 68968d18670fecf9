import { signUserToken } from '@tickets/contracts/auth'
import { startThrowawayRedis } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { activeQueueHeaders, anotherInstance, buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const upstream = await anUpstream('any')
const urls = { QUEUE_URLS: upstream.url, BOOKING_URLS: upstream.url, PAYMENT_URLS: upstream.url }
const bearer = async (userId: string) => `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}`
let address = 0
/** Each test plays clients from its own addresses, so tests never share a counter. */
const newAddress = () => `198.51.100.${++address}`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('the global per-client limit', async () => {
  const { app: a, config } = await buildTestApp(import.meta.url, { ...urls, RATE_LIMIT_GLOBAL_MAX: '5', RATE_LIMIT_GLOBAL_WINDOW_MS: '10000', RATE_LIMIT_TOKEN_SYNC_MS: '5' })
  const b = await anotherInstance(config)

  it('when one client calls two gateway instances, then once synced N requests pass across both, the next get 429', async () => {
    const remoteAddress = newAddress()
    const atA = []
    for (let i = 0; i < 5; i++) atA.push(await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress }))
    expect(atA.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200])
    expect(atA.map((r) => Number(r.headers['ratelimit-remaining']))).toEqual([4, 3, 2, 1, 0])
    await sleep(60)
    // b decides its first request from memory, then hears a's five at its sync.
    expect((await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress })).statusCode).toBe(200)
    await sleep(60)
    for (const res of [await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress }), await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress })]) {
      expect(res.statusCode).toBe(429)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json()).toMatchObject({ status: 429, code: 'COMMON_RATE_LIMITED' })
      expect(res.json().traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(res.headers['ratelimit-limit']).toBe('5')
      expect(res.headers['ratelimit-remaining']).toBe('0')
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0)
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
    }
  })

  it('when another client calls, then it has its own limit', async () => {
    const remoteAddress = newAddress()
    for (let i = 0; i < 5; i++) await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress })
    expect((await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress: newAddress() })).statusCode).toBe(200)
  })

  it('when a client probes paths that do not exist, then those count against its limit too', async () => {
    const remoteAddress = newAddress()
    const statuses = []
    for (let i = 0; i < 6; i++) statuses.push((await a.inject({ method: 'GET', url: `/no-such-page-${i}`, remoteAddress })).statusCode)
    expect(statuses).toEqual([404, 404, 404, 404, 404, 429])
  })

  it('when a client is limited, then health and metrics still answer', async () => {
    const remoteAddress = newAddress()
    for (let i = 0; i < 6; i++) await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress })
    expect((await a.inject({ method: 'GET', url: '/health', remoteAddress })).statusCode).toBe(200)
    expect((await a.admin.inject({ method: 'GET', url: '/metrics', remoteAddress })).statusCode).toBe(200)
  })
})

describe('POST /api/queue/token: per client address', async () => {
  const { app: direct } = await buildTestApp(import.meta.url, { ...urls, RATE_LIMIT_TOKEN_PER_SECOND: '10' })
  const { app: behindProxy } = await buildTestApp(import.meta.url, { ...urls, RATE_LIMIT_TOKEN_PER_SECOND: '10', TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1' })
  const join = async (app: typeof direct, remoteAddress: string, forwardedFor?: string) =>
    app.inject({
      method: 'POST',
      url: '/api/queue/token',
      remoteAddress,
      headers: { authorization: await bearer('1'), ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
      payload: { concertId: 'c1' },
    })

  it('when one address sends 15 joins in a second, then 10 pass and 5 get 429, whatever X-Forwarded-For says', async () => {
    const remoteAddress = newAddress()
    const results = await Promise.all(Array.from({ length: 15 }, (_, i) => join(direct, remoteAddress, `203.0.113.${i}`)))
    const statuses = results.map((r) => r.statusCode)
    expect(statuses.filter((s) => s === 200)).toHaveLength(10)
    expect(statuses.filter((s) => s === 429)).toHaveLength(5)
    const limited = results.find((r) => r.statusCode === 429)!
    expect(limited.headers['ratelimit-limit']).toBe('10')
    expect(limited.headers['retry-after']).toBe('1')
    expect(limited.json().code).toBe('COMMON_RATE_LIMITED')
  })

  it('when one address joins through two gateway instances, then they share its limit once they have synced', async () => {
    const { app: a, config } = await buildTestApp(import.meta.url, { ...urls, RATE_LIMIT_TOKEN_PER_SECOND: '10', RATE_LIMIT_TOKEN_SYNC_MS: '5' })
    const b = await anotherInstance(config)
    const remoteAddress = newAddress()
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
    const atA = await Promise.all(Array.from({ length: 6 }, () => join(a, remoteAddress)))
    // b decides its first join from memory, then hears a's six at its sync.
    const first = await join(b, remoteAddress)
    await sleep(100)
    const atB = await Promise.all(Array.from({ length: 5 }, () => join(b, remoteAddress)))
    expect([...atA, first].map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 200])
    expect(atB.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 429, 429])
    expect(atB.find((r) => r.statusCode === 429)!.headers['ratelimit-remaining']).toBe('0')
  })

  it('when the joins come through a trusted proxy, then each forwarded client has its own limit', async () => {
    const fans = [newAddress(), newAddress()]
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => join(behindProxy, '10.1.2.3', fans[i % 2])))
    expect(results.every((r) => r.statusCode === 200)).toBe(true)
  })

  it('when a client behind a trusted proxy prepends a fake address, then the address the proxy saw is the one limited', async () => {
    const fan = newAddress()
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => join(behindProxy, '127.0.0.1', `192.0.2.${i}, ${fan}`)))
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(2)
  })

  it('when an address joins, then only the token route limit counts it: the global budget stays whole', async () => {
    const { app } = await buildTestApp(import.meta.url, { ...urls, RATE_LIMIT_TOKEN_PER_SECOND: '10', RATE_LIMIT_GLOBAL_MAX: '3', RATE_LIMIT_GLOBAL_WINDOW_MS: '10000' })
    const remoteAddress = newAddress()
    const joins = await Promise.all(Array.from({ length: 6 }, () => join(app, remoteAddress)))
    expect(joins.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200])
    expect(joins[0]!.headers['ratelimit-limit']).toBe('10')
    const reads = []
    for (let i = 0; i < 4; i++) reads.push((await app.inject({ method: 'GET', url: '/api/concerts', remoteAddress })).statusCode)
    expect(reads).toEqual([200, 200, 200, 429])
  })

  it('when an untrusted connection sends X-Forwarded-For, then it is ignored', async () => {
    const remoteAddress = newAddress()
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => join(behindProxy, remoteAddress, `192.0.2.${i}`)))
    expect(results.filter((r) => r.statusCode === 429)).toHaveLength(2)
  })
})

describe('holds and payments: per user', async () => {
  const { app } = await buildTestApp(import.meta.url, { ...urls, RATE_LIMIT_HOLD_MAX: '3', RATE_LIMIT_PAYMENT_MAX: '2', RATE_LIMIT_USER_WINDOW_MS: '10000' })
  const post = async (url: string, userId: string) =>
    app.inject({
      method: 'POST',
      url,
      remoteAddress: newAddress(),
      headers: { authorization: await bearer(userId), 'idempotency-key': `k-${Math.random()}`, ...(await activeQueueHeaders(userId)) },
      payload: {},
    })

  it('when a user holds more than the limit, even from many addresses, then 429; another user is not affected', async () => {
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await post('/api/reservations', 'hold-user-1')).statusCode)
    expect(statuses).toEqual([200, 200, 200, 429])
    expect((await post('/api/reservations', 'hold-user-2')).statusCode).toBe(200)
  })

  it('when a user pays more than the limit, then 429 with the limit in the headers', async () => {
    const results = []
    for (let i = 0; i < 3; i++) results.push(await post('/api/payments', 'pay-user-1'))
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 429])
    expect(results[2]!.headers['ratelimit-limit']).toBe('2')
    expect((await post('/api/payments', 'pay-user-2')).statusCode).toBe(200)
  })

  it('when a user over the limit sends no queue token, then the limit answers first (429), within it the gate', async () => {
    const bare = async () =>
      app.inject({ method: 'POST', url: '/api/reservations', remoteAddress: newAddress(), headers: { authorization: await bearer('hold-user-3') }, payload: {} })
    const results = []
    for (let i = 0; i < 4; i++) results.push(await bare())
    expect(results.map((r) => r.statusCode)).toEqual([401, 401, 401, 429])
    expect(results[0]!.json().code).toBe('QUEUE_TOKEN_MISSING')
    expect(results[3]!.json().code).toBe('COMMON_RATE_LIMITED')
  })

  it("when the limit is per user, then an unauthenticated flood is refused 401 without using a user's budget", async () => {
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'POST', url: '/api/payments', payload: {} })).statusCode).toBe(401)
    expect((await post('/api/payments', 'pay-user-3')).statusCode).toBe(200)
  })
})

describe('when Redis is down', async () => {
  const redis = await startThrowawayRedis()
  afterAll(() => redis.dispose())
  const { app: a, config } = await buildTestApp(import.meta.url, {
    ...urls,
    REDIS_URL: redis.url,
    RATE_LIMIT_GLOBAL_MAX: '3',
    RATE_LIMIT_GLOBAL_WINDOW_MS: '20000',
    RATE_LIMIT_TOKEN_SYNC_MS: '5',
  })
  const b = await anotherInstance(config)

  it('when Redis stops answering, then joins are still limited per address, from memory, and none fails', async () => {
    const { app: joins } = await buildTestApp(import.meta.url, { ...urls, REDIS_URL: redis.url, RATE_LIMIT_TOKEN_PER_SECOND: '10', RATE_LIMIT_TOKEN_SYNC_MS: '5' })
    const remoteAddress = newAddress()
    const join = async () => joins.inject({ method: 'POST', url: '/api/queue/token', remoteAddress, headers: { authorization: await bearer('1') }, payload: { concertId: 'c1' } })
    await redis.pause()
    try {
      const first = await Promise.all(Array.from({ length: 6 }, join))
      // Long enough for a sync to be sent to the paused Redis and still be waiting on it.
      await new Promise((r) => setTimeout(r, 100))
      const rest = await Promise.all(Array.from({ length: 9 }, join))
      expect(first.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200])
      expect(rest.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429])
    } finally {
      redis.resume()
    }
  })

  it('when Redis is paused, then per-user limits decide from memory within 250 ms and no request waits for Redis', async () => {
    const { app: holds } = await buildTestApp(import.meta.url, { ...urls, REDIS_URL: redis.url, RATE_LIMIT_HOLD_MAX: '3' })
    const headersOf = async (userId: string) => ({ authorization: await bearer(userId), ...(await activeQueueHeaders(userId)) })
    const warm = await headersOf('warm-user')
    expect((await holds.inject({ method: 'POST', url: '/api/reservations', remoteAddress: newAddress(), headers: warm, payload: {} })).statusCode).toBe(200)
    const headers = await headersOf('paused-user')
    await redis.pause()
    try {
      const statuses = []
      for (let i = 0; i < 4; i++) {
        const started = performance.now()
        const res = await holds.inject({ method: 'POST', url: '/api/reservations', remoteAddress: newAddress(), headers, payload: {} })
        statuses.push(res.statusCode)
        expect(performance.now() - started).toBeLessThan(250)
      }
      expect(statuses).toEqual([200, 200, 200, 429])
    } finally {
      redis.resume()
    }
  })

  it('then limits fall back to per-instance memory instead of failing requests, and go back to Redis when it returns', async () => {
    const remoteAddress = newAddress()
    expect((await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress })).statusCode).toBe(200)
    expect((await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress })).statusCode).toBe(200)

    await redis.stop()
    const whileDown = []
    for (let i = 0; i < 4; i++) whileDown.push((await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress: newAddress() })).statusCode)
    expect(whileDown).toEqual([200, 200, 200, 200])
    const flood = newAddress()
    const limited = []
    for (let i = 0; i < 4; i++) limited.push((await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress: flood })).statusCode)
    expect(limited).toEqual([200, 200, 200, 429])
    expect((await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress: flood })).statusCode).toBe(200)
    await expect
      .poll(async () => (await a.admin.inject({ method: 'GET', url: '/health/dependencies' })).json().dependencies.redis.status, { timeout: 5_000, interval: 200 })
      .toBe('DOWN')

    await redis.restart()
    await expect
      .poll(async () => (await a.admin.inject({ method: 'GET', url: '/health/dependencies' })).json().dependencies.redis.status, { timeout: 10_000, interval: 200 })
      .toBe('UP')
    // Redis came back empty: one shared window again, across both instances.
    await new Promise((r) => setTimeout(r, 1_100))
    const fresh = newAddress()
    const shared = []
    for (let i = 0; i < 3; i++) shared.push((await a.inject({ method: 'GET', url: '/api/concerts', remoteAddress: fresh })).statusCode)
    await sleep(60)
    shared.push((await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress: fresh })).statusCode)
    await sleep(60)
    shared.push((await b.inject({ method: 'GET', url: '/api/concerts', remoteAddress: fresh })).statusCode)
    expect(shared).toEqual([200, 200, 200, 200, 429])
  })
})
