import { describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers/build-test-app.js'
import { ledgerSum } from '../helpers/payments.js'
import { fromGateway } from '@tickets/testkit'

const { app } = await buildTestApp(import.meta.url)

const post = (url: string, userId: string, key: string, payload: string) =>
  app.inject(fromGateway({ method: 'POST', url, headers: { 'x-user-id': userId, 'idempotency-key': key, 'content-type': 'application/json' }, payload }))

describe('POST /api/points/charge refuses an amount that is not a JSON integer', () => {
  for (const [shape, amount] of [
    ['a string of digits', '"100"'],
    ['a padded string', '" 5"'],
    ['true', 'true'],
    ['an array', '[5]'],
    ['a fraction', '5.5'],
    ['null', 'null'],
    ['beyond the range', '10000001'],
  ] as const) {
    it(`when the amount is ${shape} (${amount}), then 400 COMMON_VALIDATION and nothing is charged`, async () => {
      const userId = `strict-${shape.replace(/\W/g, '')}`
      const res = await post('/api/points/charge', userId, 'k', `{"amount":${amount}}`)
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('COMMON_VALIDATION')
      expect(res.json().errors[0].path).toBe('body/amount')
      expect(await ledgerSum(app, userId)).toBe(0)
    })
  }

  it('when the amount is a JSON integer, then it is charged', async () => {
    expect((await post('/api/points/charge', 'strict-ok', 'k', '{"amount":5}')).json()).toEqual({ balance: 5 })
  })
})

describe('POST /api/payments refuses a reservation id that is not a JSON string', () => {
  for (const [shape, reservationId] of [
    ['an array of the id', '["0190a3f1-0000-7000-8000-000000000001"]'],
    ['a number', '12345'],
    ['true', 'true'],
    ['an object', '{"id":"x"}'],
  ] as const) {
    it(`when reservationId is ${shape}, then 400 COMMON_VALIDATION`, async () => {
      const res = await post('/api/payments', 'strict-payer', `k-${shape}`, `{"reservationId":${reservationId}}`)
      expect(res.statusCode).toBe(400)
      expect(res.json().code).toBe('COMMON_VALIDATION')
      expect(res.json().errors[0].path).toBe('body/reservationId')
    })
  }
})
