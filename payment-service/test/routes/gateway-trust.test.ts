import { GATEWAY_SIGNATURE_HEADER } from '@tickets/contracts/gateway-signature'
import { fromGateway } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { seedDemoWallets } from '../../src/ops.js'
import { buildTestApp } from '../helpers/build-test-app.js'

const { app, url } = await buildTestApp(import.meta.url)
await seedDemoWallets(url, { users: 2, points: 5_000 })

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): { code: string; traceId: string } }, status: number, code: string) {
  expect({ status: res.statusCode, type: res.headers['content-type'], code: res.json().code }).toEqual({ status, type: 'application/problem+json; charset=utf-8', code })
  expect(res.json().traceId).toMatch(/^[0-9a-f]{32}$/)
}

describe('the API answers the gateway only', () => {
  it('when called with only a user id header, then 401 AUTH_NOT_FROM_GATEWAY and no balance', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/points', headers: { 'x-user-id': '1' } })
    expectProblem(res, 401, 'AUTH_NOT_FROM_GATEWAY')
    expect(res.body).not.toContain('balance')
  })

  it('when the signed user id is swapped for another, then 401', async () => {
    const signed = fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': 'someone' } })
    expectProblem(await app.inject({ ...signed, headers: { ...signed.headers, 'x-user-id': '1' } }), 401, 'AUTH_NOT_FROM_GATEWAY')
  })

  it('when a signature for one route is sent to another, then 401', async () => {
    const signed = fromGateway({ method: 'GET', url: '/api/payments/p-1', headers: { 'x-user-id': '1' } })
    expectProblem(await app.inject({ ...signed, url: '/api/points' }), 401, 'AUTH_NOT_FROM_GATEWAY')
  })

  it('when a charge is not signed, then it is refused before its body is read and nothing is charged', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/points/charge',
      headers: { 'x-user-id': '2', 'idempotency-key': 'k1', [GATEWAY_SIGNATURE_HEADER]: 'nonsense' },
      payload: '{"amount": 5',
    })
    expectProblem(res, 401, 'AUTH_NOT_FROM_GATEWAY')
    expect((await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': '2' } }))).json()).toEqual({ balance: 5_000 })
  })

  it('when the gateway stopped waiting long ago, then 503 COMMON_DEADLINE_PASSED with Retry-After', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': '1' } }, -60_000))
    expectProblem(res, 503, 'COMMON_DEADLINE_PASSED')
    expect(res.headers['retry-after']).toBeDefined()
  })

  it('health and metrics stay open to the probes (metrics on the admin listener)', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200)
    expect((await app.admin.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
  })
})
