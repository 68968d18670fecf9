import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose'
import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'

const rsa = await generateKeyPair('RS256', { extractable: true })
const jwksServer = Fastify()
jwksServer.get('/jwks.json', async () => ({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' }] }))
const jwksUrl = `${await jwksServer.listen({ port: 0, host: '127.0.0.1' })}/jwks.json`
afterAll(() => jwksServer.close())

const payment = await anUpstream('payment')
const { app } = await buildTestApp(import.meta.url, {
  QUEUE_URLS: payment.url,
  BOOKING_URLS: payment.url,
  PAYMENT_URLS: payment.url,
  AUTH_JWKS_URL: jwksUrl,
  AUTH_JWT_MAX_LIFETIME_SECONDS: '3600',
})

const hmac = new TextEncoder().encode(TEST_SECRET)
const now = () => Math.floor(Date.now() / 1000)
const hs256 = (exp?: number) => {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('life-1')
  return (exp === undefined ? jwt : jwt.setExpirationTime(exp)).sign(hmac)
}
const rs256 = (exp: number) =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
    .setSubject('life-2')
    .setExpirationTime(exp)
    .sign(rsa.privateKey as CryptoKey)
const points = async (token: string) => app.inject({ method: 'GET', url: '/api/points', headers: { authorization: `Bearer ${token}` } })

describe('how long a user token may live', () => {
  it('when a token has no exp, then 401 AUTH_INVALID_TOKEN', async () => {
    const res = await points(await hs256())
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
  })

  it('when a token expires further ahead than the bound, HS256 or RS256, then 401 AUTH_INVALID_TOKEN', async () => {
    for (const token of [await hs256(now() + 3600 + 120), await hs256(now() + 10 * 365 * 86_400), await rs256(now() + 2 * 86_400)]) {
      const res = await points(token)
      expect(res.statusCode).toBe(401)
      expect(res.json()).toMatchObject({ code: 'AUTH_INVALID_TOKEN', detail: 'Token expiry is more than 3600 s ahead' })
    }
  })

  it('when a token expires within the bound, then it is accepted', async () => {
    expect((await points(await hs256(now() + 3500))).statusCode).toBe(200)
    expect((await points(await rs256(now() + 3500))).statusCode).toBe(200)
  })
})

describe('a refused algorithm', () => {
  it('when a token names an algorithm that is not accepted, then the answer does not repeat it', async () => {
    const header = Buffer.from(JSON.stringify({ alg: '<script>x</script>', typ: 'JWT' })).toString('base64url')
    const body = Buffer.from(JSON.stringify({ sub: '1', exp: now() + 60 })).toString('base64url')
    for (const token of [`${header}.${body}.c2ln`, new UnsecuredJWT({}).setSubject('1').setExpirationTime('1h').encode()]) {
      const res = await points(token)
      expect(res.statusCode).toBe(401)
      expect(res.json().detail).toBe('Token algorithm is not accepted')
      expect(res.body).not.toMatch(/script|none/i)
    }
  })
})
