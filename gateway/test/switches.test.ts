import { signUserToken } from '@tickets/contracts/auth'
import { describe, expect, it } from 'vitest'
import { OPERATOR_SECRET_HEADER } from '../src/operator.js'
import { anotherInstance, buildTestApp, OPERATOR_TEST_SECRET, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const upstream = await anUpstream('booking')
const { app: a, config } = await buildTestApp(import.meta.url, {
  QUEUE_URLS: upstream.url,
  BOOKING_URLS: upstream.url,
  PAYMENT_URLS: upstream.url,
  SWITCH_CACHE_MS: '200',
  RATE_LIMIT_TOKEN_PER_SECOND: '100',
  OPERATOR_SECRET: OPERATOR_TEST_SECRET,
})
const b = await anotherInstance(config)
const operator = a.admin
const asOperator = { [OPERATOR_SECRET_HEADER]: OPERATOR_TEST_SECRET }
const ranking = (app: typeof a) => app.inject({ method: 'GET', url: '/api/concerts/ranking' })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('operator switches', () => {
  it('when the ranking is turned off through one instance, then both answer 503 within a second, and serve it once on', async () => {
    expect((await ranking(a)).statusCode).toBe(200)
    expect((await ranking(b)).statusCode).toBe(200)
    const off = await operator.inject({ method: 'PUT', url: '/switches/ranking', headers: asOperator, payload: { enabled: false } })
    expect(off.json()).toEqual({ rankingEnabled: false, tokenLimitPerSecond: null, challenges: {} })
    await sleep(1_000)
    for (const app of [a, b]) {
      const res = await ranking(app)
      expect(res.statusCode).toBe(503)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.headers['retry-after']).toBeDefined()
      expect(res.json().code).toBe('COMMON_FEATURE_DISABLED')
    }
    expect((await a.inject({ method: 'GET', url: '/api/concerts' })).statusCode).toBe(200)

    await operator.inject({ method: 'PUT', url: '/switches/ranking', headers: asOperator, payload: { enabled: true } })
    await sleep(1_000)
    expect((await ranking(a)).statusCode).toBe(200)
    expect((await ranking(b)).statusCode).toBe(200)
  })

  it('when the token-route limit is lowered, then every instance applies it within a second', async () => {
    const res = await operator.inject({ method: 'PUT', url: '/switches/token-limit', headers: asOperator, payload: { perSecond: 2 } })
    expect(res.json().tokenLimitPerSecond).toBe(2)
    await sleep(1_000)
    const authorization = `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '1' })}`
    for (const [app, remoteAddress] of [
      [a, '192.0.2.10'],
      [b, '192.0.2.11'],
    ] as const) {
      const statuses = (
        await Promise.all(
          Array.from({ length: 4 }, () => app.inject({ method: 'POST', url: '/api/queue/token', remoteAddress, headers: { authorization }, payload: { concertId: 'c' } })),
        )
      ).map((r) => r.statusCode)
      expect(statuses.filter((s) => s === 429)).toHaveLength(2)
    }
    expect((await operator.inject({ method: 'DELETE', url: '/switches/token-limit', headers: asOperator })).json().tokenLimitPerSecond).toBeNull()
  })

  it('when the operator secret is missing or wrong, then 403 problem and nothing changes', async () => {
    for (const headers of [
      {},
      { [OPERATOR_SECRET_HEADER]: 'wrong' },
      { [OPERATOR_SECRET_HEADER]: `${OPERATOR_TEST_SECRET}x` },
      { authorization: `Bearer ${OPERATOR_TEST_SECRET}` },
    ]) {
      const res = await operator.inject({ method: 'PUT', url: '/switches/ranking', headers, payload: { enabled: false } })
      expect(res.statusCode).toBe(403)
      expect(res.json().code).toBe('AUTH_OPERATOR_FORBIDDEN')
    }
    expect((await operator.inject({ method: 'GET', url: '/switches', headers: asOperator })).json().rankingEnabled).toBe(true)
  })

  it('when the switches are asked for on the public listener, even with the secret, then 404', async () => {
    for (const url of ['/switches', '/switches/ranking', '/api/switches/ranking', '/api/concerts/../../switches/ranking']) {
      const res = await a.inject({ method: 'PUT', url, headers: asOperator, payload: { enabled: false } })
      expect([404, 405]).toContain(res.statusCode)
    }
    expect((await operator.inject({ method: 'GET', url: '/switches', headers: asOperator })).json().rankingEnabled).toBe(true)
  })

  it('when metrics or dependency health are asked for without the secret, then they answer; the secret guards the switches', async () => {
    expect((await operator.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
    expect((await operator.inject({ method: 'GET', url: '/health/dependencies' })).statusCode).toBe(200)
    expect((await operator.inject({ method: 'GET', url: '/switches' })).statusCode).toBe(403)
  })

  it('when a switch value is out of range, then 400 problem', async () => {
    for (const payload of [{ perSecond: 0 }, { perSecond: 'ten' }, { perSecond: 1.5 }, { perSecond: null }, {}, { perSecond: 5, extra: 1 }]) {
      expect((await operator.inject({ method: 'PUT', url: '/switches/token-limit', headers: asOperator, payload })).statusCode).toBe(400)
    }
  })
})
