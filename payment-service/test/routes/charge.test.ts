import { describe, expect, it } from 'vitest'
import { createMariadbIdempotencyStore } from '../../src/adapters/mariadb-idempotency-store.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { charge, ledgerSum, metricValue } from '../helpers/payments.js'
import { fromGateway } from '@tickets/testkit'

const { app } = await buildTestApp(import.meta.url, { POINTS_MAX_BALANCE: '20000000' })

describe('POST /api/points/charge', () => {
  it('when a user charges, then the balance grows and a CHARGE ledger entry matches it', async () => {
    const res = await charge(app, 'c1', 1_500, 'k-1')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ balance: 1_500 })
    expect(await ledgerSum(app, 'c1')).toBe(1_500)
  })

  it('when the same key and body come again, then the first answer is replayed and the points are added once', async () => {
    const first = await charge(app, 'c2', 700, 'same')
    const again = await charge(app, 'c2', 700, 'same')
    expect(again.statusCode).toBe(first.statusCode)
    expect(again.body).toBe(first.body)
    expect(again.headers['idempotent-replayed']).toBe('true')
    const balance = await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': 'c2' } }))
    expect(balance.json()).toEqual({ balance: 700 })
    expect(await metricValue(app, 'idempotent_replays_total', { route: '/api/points/charge' })).toBeGreaterThanOrEqual(1)
  })

  it('when the same key comes with a different body, then 422 IDEMPOTENCY_KEY_REUSED and nothing is added', async () => {
    await charge(app, 'c3', 100, 'k')
    const res = await charge(app, 'c3', 200, 'k')
    expect(res.statusCode).toBe(422)
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_REUSED')
    expect(await ledgerSum(app, 'c3')).toBe(100)
  })

  it('when another user sends the same key, then it is a separate request (keys are per user)', async () => {
    expect((await charge(app, 'c4a', 10, 'shared-key')).json()).toEqual({ balance: 10 })
    expect((await charge(app, 'c4b', 20, 'shared-key')).json()).toEqual({ balance: 20 })
  })

  it('when one charge is sent 20 times at once with one key, then it is added once; each answer is the first or 409', async () => {
    const all = await Promise.all(Array.from({ length: 20 }, () => charge(app, 'c5', 1_000, 'burst')))
    const codes = all.map((r) => r.statusCode)
    expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(1)
    expect(codes.every((c) => c === 200 || c === 409)).toBe(true)
    for (const r of all.filter((r) => r.statusCode === 409)) expect(r.json().code).toBe('IDEMPOTENCY_IN_PROGRESS')
    for (const r of all.filter((r) => r.statusCode === 200)) expect(r.json()).toEqual({ balance: 1_000 })
    expect(await ledgerSum(app, 'c5')).toBe(1_000)
  })

  it('when the key is missing, then 400 IDEMPOTENCY_KEY_MISSING', async () => {
    const res = await app.inject(fromGateway({ method: 'POST', url: '/api/points/charge', headers: { 'x-user-id': 'c6' }, payload: { amount: 5 } }))
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_MISSING')
  })

  it.each([['x'.repeat(65)], ['has space'], ['tab\tkey'], ['한글']])('when the key is %j, then 400 IDEMPOTENCY_KEY_INVALID', async (key) => {
    const res = await app.inject(fromGateway({ method: 'POST', url: '/api/points/charge', headers: { 'x-user-id': 'c6', 'idempotency-key': key }, payload: { amount: 5 } }))
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('IDEMPOTENCY_KEY_INVALID')
  })

  it.each([[0], [10_000_001], [-5], [1.5], ['ten'], [null]])('when the amount is %j, then 400 and nothing is added', async (amount) => {
    const res = await app.inject(
      fromGateway({ method: 'POST', url: '/api/points/charge', headers: { 'x-user-id': 'c7', 'idempotency-key': `a-${String(amount)}` }, payload: { amount } }),
    )
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(await ledgerSum(app, 'c7')).toBe(0)
  })

  it('when the body has an unknown field, then 400', async () => {
    const res = await app.inject(
      fromGateway({ method: 'POST', url: '/api/points/charge', headers: { 'x-user-id': 'c7', 'idempotency-key': 'extra' }, payload: { amount: 5, bonus: 1 } }),
    )
    expect(res.statusCode).toBe(400)
    expect(res.json().errors).toEqual([{ path: 'body/bonus', message: 'is not allowed' }])
  })

  it('when a charge would pass the maximum balance, then 409 PAYMENT_BALANCE_LIMIT, unchanged, and it replays', async () => {
    expect((await charge(app, 'c8', 10_000_000, 'a')).statusCode).toBe(200)
    expect((await charge(app, 'c8', 10_000_000, 'b')).statusCode).toBe(200)
    const over = await charge(app, 'c8', 1, 'c')
    expect(over.statusCode).toBe(409)
    expect(over.json()).toMatchObject({ code: 'PAYMENT_BALANCE_LIMIT', balance: 20_000_000, maxBalance: 20_000_000 })
    const replay = await charge(app, 'c8', 1, 'c')
    expect(replay.statusCode).toBe(409)
    expect(replay.body).toBe(over.body)
    expect(await ledgerSum(app, 'c8')).toBe(20_000_000)
  })

  it('when many charges race near the limit, then the balance never passes it and equals its ledger', async () => {
    const all = await Promise.all(Array.from({ length: 30 }, (_, i) => charge(app, 'c9', 1_000_000, `race-${i}`)))
    // On a starved machine some charges are refused before they start (503 with Retry-After); nothing else.
    for (const r of all.filter((r) => r.statusCode !== 200)) {
      if (r.statusCode === 503) expect(r.headers['retry-after']).toBeDefined()
      else expect(`${r.statusCode} ${r.json().code}`).toBe('409 PAYMENT_BALANCE_LIMIT')
    }
    const accepted = all.filter((r) => r.statusCode === 200).length
    expect(accepted).toBeLessThanOrEqual(20)
    const balance = (await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': 'c9' } }))).json().balance
    expect(balance).toBe(accepted * 1_000_000)
    expect(await ledgerSum(app, 'c9')).toBe(balance)
  })

  it('when no user is named, then 401 before the key is looked at', async () => {
    const res = await app.inject(fromGateway({ method: 'POST', url: '/api/points/charge', headers: { 'idempotency-key': 'k' }, payload: { amount: 5 } }))
    expect(res.statusCode).toBe(401)
  })
})

describe('idempotency keys over time', () => {
  const store = createMariadbIdempotencyStore(app.pool, { ttlSeconds: 86_400, leaseMs: 60_000 })

  it('when the request holding a key died (its lease ran out), then the same request runs again and adds the points once', async () => {
    expect((await charge(app, 'd1', 300, 'crash')).statusCode).toBe(200)
    // As if the first run credited and then died before saving its answer.
    await app.pool.query(
      "UPDATE idempotency_keys SET state = 'IN_PROGRESS', response_status = NULL, response_body = NULL, locked_until = NOW(3) - INTERVAL 1 SECOND WHERE user_id = 'd1'",
    )
    const again = await charge(app, 'd1', 300, 'crash')
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ balance: 300 })
    expect(await ledgerSum(app, 'd1')).toBe(300)
  })

  it('when a key is still within its lease, then a second request is 409 IDEMPOTENCY_IN_PROGRESS', async () => {
    expect((await charge(app, 'd2', 5, 'busy')).statusCode).toBe(200)
    // As if another instance were running this key right now.
    await app.pool.query("UPDATE idempotency_keys SET state = 'IN_PROGRESS', owner = 'other', locked_until = NOW(3) + INTERVAL 1 MINUTE WHERE user_id = 'd2'")
    const res = await charge(app, 'd2', 5, 'busy')
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('IDEMPOTENCY_IN_PROGRESS')
    expect(res.headers['retry-after']).toBe('1')
  })

  it('when keys are past their 24 hours, then the sweeper deletes them and the key may be used afresh', async () => {
    expect((await charge(app, 'd3', 40, 'old')).statusCode).toBe(200)
    const [row] = await app.pool.query<{ hours: number }[]>("SELECT TIMESTAMPDIFF(HOUR, created_at, expires_at) AS hours FROM idempotency_keys WHERE user_id = 'd3'")
    expect(Number(row!.hours)).toBeGreaterThanOrEqual(24)
    await app.pool.query("UPDATE idempotency_keys SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE user_id = 'd3'")
    expect(await store.sweep()).toBeGreaterThanOrEqual(1)
    const fresh = await charge(app, 'd3', 60, 'old')
    expect(fresh.json()).toEqual({ balance: 100 })
  })
})
