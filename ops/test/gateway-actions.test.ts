import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { freePort, isolation } from '@tickets/testkit'
import Fastify from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const gatewayServer = fileURLToPath(new URL('../../gateway/dist/server.js', import.meta.url))
const operatorSecret = 'ops-test-operator-secret-long-enough!!'

const upstream = Fastify()
upstream.all('/*', async () => ({ ok: true }))
const upstreamUrl = await upstream.listen({ port: 0, host: '127.0.0.1' })
afterAll(() => upstream.close())

const [port, operatorPort] = [await freePort(), await freePort()]
const gateway = spawn(process.execPath, [gatewayServer], {
  env: {
    ...process.env,
    PORT: String(port),
    OPERATOR_PORT: String(operatorPort),
    OPERATOR_SECRET: operatorSecret,
    AUTH_JWT_SECRET: 'ops-test-jwt-secret-that-is-long-enough!!',
    REDIS_PREFIX: isolation(import.meta.url).redisPrefix,
    SWITCH_CACHE_MS: '200',
    QUEUE_URLS: upstreamUrl,
    BOOKING_URLS: upstreamUrl,
    PAYMENT_URLS: upstreamUrl,
    LOG_LEVEL: 'silent',
    OTEL_SDK_DISABLED: 'true',
  },
  stdio: 'ignore',
})
afterAll(() => {
  gateway.kill('SIGTERM')
})
const gatewayUrl = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  const operatorUp = await fetch(`http://127.0.0.1:${operatorPort}/switches`).then(
    (r) => r.status === 403,
    () => false,
  )
  if (
    operatorUp &&
    (await fetch(`${gatewayUrl}/health`).then(
      (r) => r.ok,
      () => false,
    ))
  )
    break
  if (i > 100) throw new Error('the gateway did not start')
  await new Promise((r) => setTimeout(r, 100))
}

const ops = (args: string[], secret = operatorSecret) =>
  run(process.execPath, [cli, ...args], { env: { ...process.env, OPERATOR_SECRET: secret, GATEWAY_OPERATOR_URL: `http://127.0.0.1:${operatorPort}` } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  )
const ranking = () => fetch(`${gatewayUrl}/api/concerts/ranking`)

describe('npm run ops -- gateway:*', () => {
  it('when the ranking is switched off, then the running gateway answers 503 within a second; on again, 200', async () => {
    expect((await ranking()).status).toBe(200)
    const off = await ops(['gateway:ranking', 'off'])
    expect(off).toMatchObject({ code: 0 })
    expect(off.out).toContain('ranking off')
    await new Promise((r) => setTimeout(r, 1_000))
    const res = await ranking()
    expect(res.status).toBe(503)
    expect((await res.json()).code).toBe('COMMON_FEATURE_DISABLED')
    expect((await ops(['gateway:ranking', 'on'])).code).toBe(0)
    await new Promise((r) => setTimeout(r, 1_000))
    expect((await ranking()).status).toBe(200)
  })

  it('when the token limit is set and reset, then the switches show it', async () => {
    expect((await ops(['gateway:token-limit', '5'])).out).toContain('5/s per address')
    expect((await ops(['gateway:switches'])).out).toContain('5/s per address')
    expect((await ops(['gateway:token-limit', 'default'])).out).toContain('default')
  })

  it('when the operator secret is wrong, then it fails and nothing changes', async () => {
    const res = await ops(['gateway:ranking', 'off'], 'a-wrong-secret-that-is-long-enough-too!!')
    expect(res.code).toBe(1)
    expect(res.out).toContain('403')
    expect((await ranking()).status).toBe(200)
  })

  it('when the arguments are wrong, then usage and exit 2', async () => {
    for (const args of [['gateway:ranking'], ['gateway:ranking', 'maybe'], ['gateway:token-limit', '0'], ['gateway:token-limit', 'x']]) {
      const res = await ops(args)
      expect(res.code).toBe(2)
      expect(res.out).toContain('usage')
    }
  })
})
