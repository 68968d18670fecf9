import { signUserToken } from '@tickets/contracts/auth'
import { loadConfig } from '@tickets/shared/config'
import Fastify from 'fastify'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigSchema } from '../src/config.js'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { anUpstream } from './helpers/upstream.js'
import { TEST_INTERNAL_SECRET } from '@tickets/testkit'

const rsa = await generateKeyPair('RS256', { extractable: true })
const ec = await generateKeyPair('ES256', { extractable: true })
const stranger = await generateKeyPair('RS256', { extractable: true })
const pss = await generateKeyPair('PS256', { extractable: true })
const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: 'sig' })
const keys = [await jwk(rsa.publicKey, 'rsa-1', 'RS256'), await jwk(ec.publicKey, 'ec-1', 'ES256')]

const jwksServer = Fastify()
let jwksRequests = 0
jwksServer.get('/.well-known/jwks.json', async () => {
  jwksRequests++
  return { keys }
})
const jwksUrl = `${await jwksServer.listen({ port: 0, host: '127.0.0.1' })}/.well-known/jwks.json`
afterAll(() => jwksServer.close())

const payment = await anUpstream('payment')
const upstreams = { QUEUE_URLS: payment.url, BOOKING_URLS: payment.url, PAYMENT_URLS: payment.url }
const { app } = await buildTestApp(import.meta.url, { ...upstreams, AUTH_JWKS_URL: jwksUrl })
const { app: hmacOnly } = await buildTestApp(import.meta.url, upstreams)

const inOneHour = () => Math.floor(Date.now() / 1000) + 3600
const hmac = new TextEncoder().encode(TEST_SECRET)
const signed = (alg: string, kid: string | undefined, key: CryptoKey | Uint8Array, claims: { sub?: string; exp?: number } = { sub: '7', exp: inOneHour() }) => {
  let jwt = new SignJWT({}).setProtectedHeader(kid ? { alg, kid } : { alg })
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub)
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp)
  return jwt.sign(key)
}
const points = (gateway: typeof app, authorization?: string) => gateway.inject({ method: 'GET', url: '/api/points', headers: authorization ? { authorization } : {} })

describe('user tokens that are accepted', () => {
  it('when an HS256 token is signed with AUTH_JWT_SECRET, then its sub is the user', async () => {
    const res = await points(app, `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '42' })}`)
    expect(res.json().userId).toBe('42')
  })

  it('when an RS256 token is signed with a key of the JWKS, then its sub is the user', async () => {
    const res = await points(app, `Bearer ${await signed('RS256', 'rsa-1', rsa.privateKey, { sub: 'rs-user', exp: inOneHour() })}`)
    expect(res.statusCode).toBe(200)
    expect(res.json().userId).toBe('rs-user')
  })

  it('when an ES256 token is signed with a key of the JWKS, then its sub is the user', async () => {
    const res = await points(app, `Bearer ${await signed('ES256', 'ec-1', ec.privateKey, { sub: 'es-user', exp: inOneHour() })}`)
    expect(res.json().userId).toBe('es-user')
  })

  it('when many JWKS tokens arrive, then the key set is fetched once and reused', async () => {
    const before = jwksRequests
    for (let i = 0; i < 5; i++) expect((await points(app, `Bearer ${await signed('RS256', 'rsa-1', rsa.privateKey)}`)).statusCode).toBe(200)
    expect(jwksRequests - before).toBeLessThanOrEqual(1)
  })
})

describe('user tokens that are refused', () => {
  const rsaPublicPem = async () => new TextEncoder().encode(await exportSPKI(rsa.publicKey))
  const badTokens: Record<string, () => Promise<string>> = {
    missing: async () => '',
    'not a bearer': async () => 'Basic dXNlcjpwYXNz',
    'not a JWT': async () => 'Bearer abc.def',
    'signed with another secret': async () => `Bearer ${await signUserToken({ secret: 'another-secret-that-is-long-enough-xx', userId: '1' })}`,
    'alg none': async () => `Bearer ${new UnsecuredJWT({}).setSubject('1').setExpirationTime('1h').encode()}`,
    expired: async () => `Bearer ${await signed('HS256', undefined, hmac, { sub: '1', exp: Math.floor(Date.now() / 1000) - 60 })}`,
    'without exp': async () => `Bearer ${await signed('HS256', undefined, hmac, { sub: '1' })}`,
    'without sub': async () => `Bearer ${await signed('HS256', undefined, hmac, { exp: inOneHour() })}`,
    'with a sub that is no user id': async () => `Bearer ${await signed('HS256', undefined, hmac, { sub: '1 OR 1=1', exp: inOneHour() })}`,
    'HS512 instead of HS256': async () => `Bearer ${await signed('HS512', undefined, hmac)}`,
    'tampered (sub changed)': async () => {
      const [h, , s] = (await signUserToken({ secret: TEST_SECRET, userId: '1' })).split('.')
      return `Bearer ${h}.${Buffer.from(JSON.stringify({ sub: '2', exp: inOneHour() })).toString('base64url')}.${s}`
    },
    'HS256 signed with the RSA public key (algorithm confusion)': async () => `Bearer ${await signed('HS256', 'rsa-1', await rsaPublicPem())}`,
    'RS256 signed by a key not in the JWKS': async () => `Bearer ${await signed('RS256', 'rsa-1', stranger.privateKey)}`,
    'RS256 with an unknown kid': async () => `Bearer ${await signed('RS256', 'nope', stranger.privateKey)}`,
    'RS256 without exp': async () => `Bearer ${await signed('RS256', 'rsa-1', rsa.privateKey, { sub: '1' })}`,
    'ES256 header over an RSA key id': async () => `Bearer ${await signed('ES256', 'rsa-1', ec.privateKey)}`,
    'PS256 (not on the allow-list)': async () => `Bearer ${await signed('PS256', 'rsa-1', pss.privateKey)}`,
  }
  for (const [name, make] of Object.entries(badTokens)) {
    it(`when the token is ${name}, then 401 problem and nothing reaches the service, also when it comes again`, async () => {
      const before = payment.received.length
      const token = await make()
      // The second time, its header is one the gateway has already decoded (and remembered).
      for (const attempt of [1, 2]) {
        const res = await points(app, token)
        expect(res.statusCode, `attempt ${attempt}`).toBe(401)
        expect(res.headers['content-type']).toContain('application/problem+json')
        expect(res.headers['www-authenticate']).toMatch(/^Bearer/)
        expect(res.json().code).toMatch(/^AUTH_/)
      }
      expect(payment.received.length).toBe(before)
    })
  }

  it('when callers send more distinct tokens than are remembered, then each is still judged by its own signature', async () => {
    // 200 headers (the gateway remembers 64): each its own kid, half of them with a forged signature.
    for (let i = 0; i < 200; i++) {
      const token = await signed('HS256', `made-up-${i}`, hmac, { sub: `u${i}`, exp: inOneHour() })
      const forged = i % 2 === 1 ? `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(32).toString('base64url')}` : token
      const res = await points(hmacOnly, `Bearer ${forged}`)
      expect(res.statusCode, `token ${i}`).toBe(i % 2 === 1 ? 401 : 200)
    }
    // The first headers were evicted long ago: decoded again, and still only the right algorithm passes.
    expect((await points(hmacOnly, `Bearer ${await signed('HS256', 'made-up-0', hmac, { sub: 'again', exp: inOneHour() })}`)).json().userId).toBe('again')
    expect((await points(hmacOnly, `Bearer ${await signed('HS512', 'made-up-0', hmac)}`)).statusCode).toBe(401)
  })

  it('when an HS256 token has expired, then 401 AUTH_TOKEN_EXPIRED; within the 5 s clock tolerance it is still accepted', async () => {
    const now = Math.floor(Date.now() / 1000)
    const expired = await points(hmacOnly, `Bearer ${await signed('HS256', undefined, hmac, { sub: '1', exp: now - 60 })}`)
    expect(expired.statusCode).toBe(401)
    expect(expired.json().code).toBe('AUTH_TOKEN_EXPIRED')
    expect((await points(hmacOnly, `Bearer ${await signed('HS256', undefined, hmac, { sub: '1', exp: now - 2 })}`)).statusCode).toBe(200)
  })

  it('when an HS256 token is not valid before a time still ahead, then 401', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('1')
      .setExpirationTime(inOneHour())
      .setNotBefore(inOneHour() - 60)
      .sign(hmac)
    const res = await points(hmacOnly, `Bearer ${token}`)
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
  })

  it('when AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE are set, then an HS256 token must carry both', async () => {
    const { app: strict } = await buildTestApp(import.meta.url, { ...upstreams, AUTH_JWT_ISSUER: 'https://id.example', AUTH_JWT_AUDIENCE: 'tickets' })
    const token = (iss: string | undefined, aud: string | string[] | undefined) => {
      let jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('1').setExpirationTime(inOneHour())
      if (iss) jwt = jwt.setIssuer(iss)
      if (aud) jwt = jwt.setAudience(aud)
      return jwt.sign(hmac)
    }
    expect((await points(strict, `Bearer ${await token('https://id.example', 'tickets')}`)).statusCode).toBe(200)
    expect((await points(strict, `Bearer ${await token('https://id.example', ['other', 'tickets'])}`)).statusCode).toBe(200)
    for (const [iss, aud] of [
      ['https://evil.example', 'tickets'],
      [undefined, 'tickets'],
      ['https://id.example', 'other'],
      ['https://id.example', undefined],
    ] as const) {
      const res = await points(strict, `Bearer ${await token(iss, aud)}`)
      expect(res.statusCode, `iss ${iss} aud ${aud}`).toBe(401)
      expect(res.json().code).toBe('AUTH_INVALID_TOKEN')
    }
    await strict.close()
  })

  it('when no JWKS is configured, then an RS256 token is refused', async () => {
    const res = await points(hmacOnly, `Bearer ${await signed('RS256', 'rsa-1', rsa.privateKey)}`)
    expect(res.statusCode).toBe(401)
  })

  it('when the JWKS cannot be fetched, then 503 problem (not 401: the token may be fine)', async () => {
    const dead = Fastify()
    const deadUrl = `${await dead.listen({ port: 0, host: '127.0.0.1' })}/jwks.json`
    await dead.close()
    const { app: gateway } = await buildTestApp(import.meta.url, { ...upstreams, AUTH_JWKS_URL: deadUrl, HEALTH_TIMEOUT_MS: '300' })
    const res = await points(gateway, `Bearer ${await signed('RS256', 'rsa-1', rsa.privateKey)}`)
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBeDefined()
    expect(res.json().code).toBe('COMMON_DEPENDENCY_DOWN')
    expect((await points(gateway, `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: '5' })}`)).json().userId).toBe('5')
  })
})

describe('the secret at start', () => {
  it('when AUTH_JWT_SECRET is missing or shorter than 32 characters, then the config is refused naming it', () => {
    expect(() => loadConfig(ConfigSchema, {})).toThrow(/AUTH_JWT_SECRET/)
    expect(() => loadConfig(ConfigSchema, { AUTH_JWT_SECRET: 'short' })).toThrow(/AUTH_JWT_SECRET.*32/)
  })

  it('when OPERATOR_SECRET is set but short, then the config is refused naming it', () => {
    expect(() => loadConfig(ConfigSchema, { AUTH_JWT_SECRET: TEST_SECRET, INTERNAL_SECRET: TEST_INTERNAL_SECRET, OPERATOR_SECRET: 'short' })).toThrow(/OPERATOR_SECRET/)
  })
})
