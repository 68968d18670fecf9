import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signUserToken } from '@tickets/contracts/auth'
import { lineControls } from '@tickets/contracts/line-controls'
import { createConcert, migrate as migrateBooking, seedDemoCatalogue } from '@tickets/booking-service/ops'
import { migrate as migratePayment, seedDemoWallets } from '@tickets/payment-service/ops'
import { dropDatabase } from '@tickets/shared/migrate'
import { freePort, isolation, mysqlUrl, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { Redis } from 'ioredis'
import type { Page } from 'playwright-core'
import { OPERATOR_TEST_SECRET, QUIET_GATEWAY_SETTINGS, TEST_SECRET } from './build-test-app.js'
import { removeIsolatedState, startProcess, stopProcess, type RunningProcess } from './real-processes.js'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url))
export const PHONE = { width: 390, height: 844 }
export const DESKTOP = { width: 1280, height: 900 }

/**
 * The whole system as `npm start` runs it (gateway with its operator listener and the development
 * sign-in, queue, booking, payment, each a real process writing spans to one traces file), on this
 * file's own databases, Redis prefix and NATS namespace, for a real browser to use.
 */
export async function startBrowserStack(fileUrl: string) {
  const iso = isolation(fileUrl)
  const bookingDb = mysqlUrl(iso.database('booking'))
  const paymentDb = mysqlUrl(iso.database('payment'))
  const tracesFile = join(tmpdir(), `${iso.redisPrefix.replace(/[^A-Za-z0-9]/g, '')}-traces.jsonl`)
  await Promise.all([migrateBooking(bookingDb), migratePayment(paymentDb)])
  await Promise.all([seedDemoCatalogue(bookingDb, { seatsPerSchedule: 10 }), seedDemoWallets(paymentDb, { users: 3 })])
  const tiny = await createConcert(bookingDb, { title: 'Tiny hall', dates: 1, seatsPerSchedule: 1 })
  const held = await createConcert(bookingDb, { title: 'Held back hall', dates: 1, seatsPerSchedule: 5 })
  const [queuePort, bookingPort, paymentPort, gatewayPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
  const common = {
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    AUTH_JWT_SECRET: TEST_SECRET,
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    OTEL_SDK_DISABLED: 'false',
    OTEL_TRACES_SAMPLER_ARG: '1',
    TRACES_FILE: tracesFile,
  }
  const running: RunningProcess[] = []
  const start = async (name: string, env: Record<string, string>, port: number) => {
    const proc = await startProcess(name, name, { ...common, ...env }, port)
    running.push(proc)
    return proc
  }
  await Promise.all([
    start('queue-service', { ADMISSION_RATE_PER_SECOND: '1000', ACTIVE_CAP: '1000', ADMISSION_TICK_MS: '200', INVENTORY_RESYNC_SECONDS: '1' }, queuePort),
    start('booking-service', { MYSQL_URL: bookingDb }, bookingPort),
    start('payment-service', { MYSQL_URL: paymentDb, OUTBOX_POLL_MS: '100' }, paymentPort),
  ])
  const gateway = await start(
    'gateway',
    {
      ...QUIET_GATEWAY_SETTINGS,
      QUEUE_URLS: `http://127.0.0.1:${queuePort}`,
      BOOKING_URLS: `http://127.0.0.1:${bookingPort}`,
      PAYMENT_URLS: `http://127.0.0.1:${paymentPort}`,
      DEV_SIGN_IN: 'true',
      OPERATOR_SECRET: OPERATOR_TEST_SECRET,
      CONSOLE_REFRESH_MS: '1000',
    },
    gatewayPort,
  )
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { keyPrefix: iso.redisPrefix })
  mkdirSync(SCREENSHOTS, { recursive: true })

  async function api(user: string, method: string, path: string, opts: { body?: unknown; queueToken?: string; idempotencyKey?: string } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId: user, ttlSeconds: 600 })}` }
    if (opts.queueToken) headers['x-queue-token'] = opts.queueToken
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${gateway.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) })
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> }
  }

  return {
    gatewayUrl: gateway.url,
    operatorUrl: gateway.adminUrl,
    consoleUrl: `${gateway.adminUrl}/console/`,
    operatorSecret: OPERATOR_TEST_SECRET,
    tiny,
    held,
    controls: lineControls(redis),
    api,
    /** Joins a concert's line through the public API and waits until ACTIVE; returns the token to send. */
    async admitted(user: string, concertId: string): Promise<string> {
      const joined = await api(user, 'POST', '/api/queue/token', { body: { concertId } })
      if (joined.status !== 201) throw new Error(`join answered ${joined.status}: ${JSON.stringify(joined.body)}`)
      let token: string = joined.body.token
      for (let i = 0; i < 300; i++) {
        const poll = await api(user, 'GET', '/api/queue/token', { queueToken: token })
        if (poll.body?.status === 'ACTIVE') return poll.body.token ?? token
        token = poll.body?.token ?? token
        await new Promise((r) => setTimeout(r, 100))
      }
      throw new Error(`${user} was not admitted to ${concertId}`)
    },
    async stop() {
      redis.disconnect()
      await Promise.all(running.map(stopProcess))
      await Promise.all([dropDatabase(bookingDb), dropDatabase(paymentDb)]).catch(() => undefined)
      await removeIsolatedState(iso, 'browser-cleanup')
      rmSync(tracesFile, { force: true })
    },
  }
}

export type BrowserStack = Awaited<ReturnType<typeof startBrowserStack>>

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/**
 * What axe-core finds against WCAG 2.1 A and AA on the page as it is (contrast, names and labels,
 * roles, keyboard traps among them): each violation's rule and the elements it names. Evaluated
 * through the debugging protocol, so the page's own Content-Security-Policy stays in force.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource)
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
}

/** Screenshots of the page as it is, at phone and desktop widths, into test-results/screenshots/ (gitignored). */
export async function shoot(page: Page, name: string): Promise<void> {
  const before = page.viewportSize()
  for (const [width, size] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    await page.setViewportSize(size)
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true })
  }
  if (before) await page.setViewportSize(before)
}
