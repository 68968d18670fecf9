import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { signUserToken } from '@tickets/contracts/auth'
import { solveChallenge } from '@tickets/contracts/queue-challenge'
import { freePort, isolation } from '@tickets/testkit'
import Fastify from 'fastify'
import { afterAll, describe, expect, it, vi } from 'vitest'

const run = promisify(execFile)
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const gatewayServer = fileURLToPath(new URL('../../gateway/dist/server.js', import.meta.url))
const operatorSecret = 'ops-test-operator-secret-long-enough!!'
const jwtSecret = 'ops-test-jwt-secret-that-is-long-enough!!'

const upstream = Fastify()
upstream.all('/*', async () => ({ ok: true }))
const upstreamUrl = await upstream.listen({ port: 0, host: '127.0.0.1' })
afterAll(() => upstream.close())

const [port, adminPort] = [await freePort(), await freePort()]
const gateway = spawn(process.execPath, [gatewayServer], {
  env: {
    ...process.env,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    OPERATOR_SECRET: operatorSecret,
    AUTH_JWT_SECRET: jwtSecret,
    INTERNAL_SECRET: 'ops-test-internal-secret-long-enough!!!',
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
  const operatorUp = await fetch(`http://127.0.0.1:${adminPort}/switches`).then(
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
  run(process.execPath, [cli, ...args], { env: { ...process.env, OPERATOR_SECRET: secret, GATEWAY_OPERATOR_URL: `http://127.0.0.1:${adminPort}` } }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, out: err.stdout + err.stderr }),
  )
const ranking = () => fetch(`${gatewayUrl}/api/concerts/ranking`)
const join = async (concertId: string, proof?: string) =>
  fetch(`${gatewayUrl}/api/queue/token`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await signUserToken({ secret: jwtSecret, userId: 'ops-fan' })}`,
      'content-type': 'application/json',
      ...(proof ? { 'x-queue-proof': proof } : {}),
    },
    body: JSON.stringify({ concertId }),
  })

// Each ops command is a new Node process: on a machine with both cores busy one takes seconds.
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

  it('when the join challenge is switched on for a concert, then the running gateway asks for a proof there; off, joins go on', async () => {
    const on = await ops(['queue:challenge', 'c-pow', 'on', '--difficulty', '6'])
    expect(on).toMatchObject({ code: 0 })
    expect(on.out).toContain('join challenge on for c-pow (6 bits)')
    // Every instance re-reads the switches within SWITCH_CACHE_MS (200 ms here); a busy machine may take longer.
    const refused = await vi.waitFor(
      async () => {
        const res = await join('c-pow')
        expect(res.status).toBe(403)
        return res
      },
      { timeout: 5_000, interval: 100 },
    )
    const problem = (await refused.json()) as { code: string; challenge: { nonce: string; difficulty: number } }
    expect(problem).toMatchObject({ code: 'QUEUE_CHALLENGE_REQUIRED', challenge: { difficulty: 6 } })
    expect((await join('c-pow', solveChallenge(problem.challenge))).status).toBe(200)
    expect((await join('c-other')).status).toBe(200)
    expect((await ops(['queue:challenge', 'c-pow', 'on'])).out).toContain('c-pow (19 bits)')
    const off = await ops(['queue:challenge', 'c-pow', 'off'])
    expect(off.out).toContain('join challenge off everywhere')
    await vi.waitFor(async () => expect((await join('c-pow')).status).toBe(200), { timeout: 5_000, interval: 100 })
  }, 90_000)

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

  it('when queue:challenge is given a bad concert, state or difficulty, then usage and exit 2', async () => {
    const answers = await Promise.all(
      [
        ['queue:challenge', 'c-1'],
        ['queue:challenge', 'c 1', 'on'],
        ['queue:challenge', 'c-1', 'on', '--difficulty', '0'],
        ['queue:challenge', 'c-1', 'on', '--difficulty', '29'],
        ['queue:challenge', 'c-1', 'on', '--difficulty'],
        ['queue:challenge', 'c-1', 'off', '--difficulty', '8'],
        ['queue:challenge', 'c-1', 'on', '--hard'],
      ].map((args) => ops(args)),
    )
    for (const res of answers) {
      expect(res.code).toBe(2)
      expect(res.out).toContain('usage')
    }
  }, 90_000)
})
