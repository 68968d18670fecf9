import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort, isolation, startThrowawayMariadb } from '@tickets/shared/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/ops.js'

// The service as it runs (its own process: the driver's stray rejections on a lost server are
// handled as in production) on a private MariaDB (tickets-throwaway) that this file stops and pauses.
const iso = isolation(import.meta.url)
const mariadb = await startThrowawayMariadb()
const url = `${mariadb.url}/tickets_payment`
await migrate(url)
const port = await freePort()
const service = spawn(process.execPath, [fileURLToPath(new URL('../../dist/server.js', import.meta.url))], {
  env: {
    ...process.env,
    MYSQL_URL: url,
    PORT: String(port),
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'error',
    MYSQL_STATEMENT_TIMEOUT_MS: '500',
    TZ: 'UTC',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
})
afterAll(async () => {
  mariadb.resume()
  service.kill('SIGTERM')
  await mariadb.dispose()
})

interface Answer {
  status: number
  ms: number
  retryAfter: string | null
  type: string | null
  body: { status?: number; code?: string; traceId?: string }
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now()
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init)
  const body = (await res.json().catch(() => ({}))) as Answer['body']
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type'), body }
}
const balance = () => call('/api/points', { headers: { 'x-user-id': 'u1' } })
const charge = (key: string) =>
  call('/api/points/charge', {
    method: 'POST',
    headers: { 'x-user-id': 'u1', 'idempotency-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: 1_000 }),
  })

function expectFast503(a: Answer) {
  expect({ status: a.status, fast: a.ms < 1_300, retryAfter: Number(a.retryAfter) > 0, problem: a.type?.includes('application/problem+json') }, JSON.stringify(a)).toEqual({
    status: 503,
    fast: true,
    retryAfter: true,
    problem: true,
  })
  expect(a.body).toMatchObject({ status: 503, code: expect.stringMatching(/^COMMON_(DEPENDENCY_DOWN|OVERLOADED)$/), traceId: expect.stringMatching(/^[0-9a-f]{32}$/) })
}

for (let i = 0; i < 150 && (await call('/health/ready').catch(() => ({ status: 0 }))).status !== 200; i++) await new Promise((r) => setTimeout(r, 100))

describe('payment-service without its database', () => {
  it('when MariaDB is stopped, then the balance and a charge are a 503 with Retry-After, not a 500; and work again once it is back', async () => {
    expect((await charge('before')).status).toBe(200)
    await mariadb.stop()
    try {
      expectFast503(await balance())
      expectFast503(await charge('while-stopped'))
    } finally {
      await mariadb.restart()
    }
    await expect.poll(async () => (await balance()).status, { timeout: 10_000, interval: 200 }).toBe(200)
    expect((await charge('after')).status).toBe(200)
  })

  it('when MariaDB is paused, then the balance and a charge are a 503 within ~1 s', async () => {
    mariadb.pause()
    try {
      expectFast503(await balance())
      expectFast503(await charge('while-paused'))
    } finally {
      mariadb.resume()
    }
    await expect.poll(async () => (await balance()).status, { timeout: 10_000, interval: 200 }).toBe(200)
    expect(service.exitCode).toBeNull()
  })
})
