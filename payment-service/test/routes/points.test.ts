import { describe, expect, it } from 'vitest'
import { seedDemoWallets } from '../../src/ops.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { fromGateway } from '@tickets/testkit'

const { app, url } = await buildTestApp(import.meta.url)
await seedDemoWallets(url, { users: 2, points: 5_000 })

describe('GET /api/points', () => {
  it('returns the balance of the user the gateway names', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': '2' } }))
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ balance: 5_000 })
  })

  it('when the user has no wallet yet, then the balance is 0', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': 'newcomer' } }))
    expect(res.json()).toEqual({ balance: 0 })
  })

  it('when no user is named, then 401 problem', async () => {
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/points' }))
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('AUTH_MISSING_USER')
  })

  it('seeding twice changes nothing', async () => {
    expect(await seedDemoWallets(url, { users: 2, points: 5_000 })).toEqual({ users: 2, created: 0 })
    const res = await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': '1' } }))
    expect(res.json()).toEqual({ balance: 5_000 })
  })
})
