import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { freePort, fromGateway, isolation, startThrowawayMariadb, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate } from '../../src/ops.js'

const iso = isolation(import.meta.url)
const mariadb = await startThrowawayMariadb()
const url = `${mariadb.url}/tickets_booking`
await migrate(url)
const [port, adminPort] = [await freePort(), await freePort()]
const service = spawn(process.execPath, [fileURLToPath(new URL('../../dist/server.js', import.meta.url))], {
  env: {
    ...process.env,
    MYSQL_URL: url,
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'error',
    MYSQL_ACQUIRE_TIMEOUT_MS: '500',
    HEALTH_TIMEOUT_MS: '700',
    TZ: 'UTC',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
})
afterAll(async () => {
  service.kill('SIGTERM')
  await mariadb.dispose()
})

async function dependencyHealth(): Promise<{ status: number; database?: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${adminPort}/health/dependencies`)
    const body = (await res.json()) as { dependencies?: { database?: { status: string } } }
    return { status: res.status, database: body.dependencies?.database?.status }
  } catch {
    return { status: 0 }
  }
}

async function until(want: { status: number; database: string }) {
  for (let i = 0; i < 200; i++) {
    const r = await dependencyHealth()
    if (r.status === want.status && r.database === want.database) return
    expect(service.exitCode, 'the service process exited').toBeNull()
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`dependency health never became ${JSON.stringify(want)}`)
}

describe('booking-service process and MariaDB restarts', () => {
  it('when MariaDB stops, dependency health is DOWN (503) and readiness 200; once back, UP, and the process never restarted', async () => {
    await until({ status: 200, database: 'UP' })
    for (let round = 0; round < 2; round++) {
      await mariadb.stop()
      await until({ status: 503, database: 'DOWN' })
      expect((await fetch(`http://127.0.0.1:${adminPort}/health/ready`)).status).toBe(200)
      await mariadb.restart()
      await until({ status: 200, database: 'UP' })
    }
    expect(service.exitCode).toBeNull()
    const catalogue = await fetch(`http://127.0.0.1:${port}/api/concerts`, { headers: fromGateway({ url: '/api/concerts' }).headers })
    expect(catalogue.status).toBe(200)
  })
})
