import { secretKey } from '@tickets/contracts/auth'
import { jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'

const { app } = await buildTestApp(import.meta.url, {})
const { app: devApp } = await buildTestApp(import.meta.url, { DEV_SIGN_IN: 'true' })

function assetOf(html: string, ext: string): string {
  const m = new RegExp(`assets/(fan-[0-9a-f]{12}\\.${ext})`).exec(html)
  if (!m) throw new Error(`no ${ext} asset named in the page`)
  return m[1]!
}

describe("the fan's pages", () => {
  it('when the page is asked for, then it is HTML cached briefly, with a policy that allows only its own files', async () => {
    const res = await app.inject({ method: 'GET', url: '/' })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.headers['cache-control']).toBe('public, max-age=60')
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.body).toContain('<html lang="en">')
  })

  it('when a hashed asset is asked for, then it is cached for a year as immutable', async () => {
    const html = (await app.inject({ method: 'GET', url: '/' })).body
    for (const ext of ['js', 'css']) {
      const res = await app.inject({ method: 'GET', url: `/assets/${assetOf(html, ext)}` })
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
    }
  })

  it('the waiting page, its script and its style together weigh under 50 KB', async () => {
    const html = (await app.inject({ method: 'GET', url: '/' })).body
    const sizes = await Promise.all(['js', 'css'].map(async (ext) => (await app.inject({ method: 'GET', url: `/assets/${assetOf(html, ext)}` })).rawPayload.length))
    expect(Buffer.byteLength(html) + sizes[0]! + sizes[1]!).toBeLessThan(50 * 1024)
  })

  it('when a path is neither a page nor the API, then it is a 404 problem', async () => {
    const res = await app.inject({ method: 'GET', url: '/assets/nothing-here.js' })
    expect(res.statusCode).toBe(404)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
  })
})

describe('the development sign-in', () => {
  it('when DEV_SIGN_IN is off (the default), then it does not exist', async () => {
    expect((await app.inject({ method: 'GET', url: '/dev/sign-in' })).statusCode).toBe(404)
    expect((await app.inject({ method: 'POST', url: '/dev/sign-in', payload: { userId: '7' } })).statusCode).toBe(404)
  })

  it('when DEV_SIGN_IN is on, then any user id gets a user token the gateway accepts', async () => {
    expect((await devApp.inject({ method: 'GET', url: '/dev/sign-in' })).statusCode).toBe(204)
    const res = await devApp.inject({ method: 'POST', url: '/dev/sign-in', payload: { userId: 'fan-7' } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    const { payload } = await jwtVerify(res.json().token, secretKey(TEST_SECRET))
    expect(payload.sub).toBe('fan-7')
  })

  it('when the user id is not well formed, then it is a 400 problem', async () => {
    const res = await devApp.inject({ method: 'POST', url: '/dev/sign-in', payload: { userId: '../admin' } })
    expect(res.statusCode).toBe(400)
  })
})
