import { once } from 'node:events'
import { appendFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONCERTS_KEY } from '@tickets/contracts/line-keys'
import { afterAll, describe, expect, it } from 'vitest'
import { OPERATOR_SECRET_HEADER } from '../src/operator.js'
import { buildTestApp, OPERATOR_TEST_SECRET } from './helpers/build-test-app.js'

// A real Alertmanager API (and booking catalogue) stand-in on a real port: what the console is asked.
const alertmanager = createServer((req, res) => {
  res.setHeader('content-type', 'application/json')
  if (req.url === '/api/concerts') return res.end(JSON.stringify({ concerts: [{ concertId: 'console-c1', title: 'Console hall' }] }))
  res.end(
    JSON.stringify([
      {
        labels: { alertname: 'SlowResponses', severity: 'P2' },
        annotations: { summary: 'booking p95 above 1 s', runbook_url: 'docs/runbook.md#slow-responses' },
        startsAt: '2026-01-01T20:01:00Z',
        status: { state: 'active' },
      },
      { labels: { alertname: 'Silenced' }, annotations: {}, status: { state: 'suppressed' } },
    ]),
  )
})
alertmanager.listen(0, '127.0.0.1')
await once(alertmanager, 'listening')
afterAll(() => alertmanager.close())

const TRACE = 'ab'.repeat(16)
const tracesFile = join(tmpdir(), `console-traces-${process.pid}-${Date.now()}.jsonl`)
const span = (spanId: string, parent: string | undefined, service: string, name: string, startMs: number, endMs: number, error = false) =>
  JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: TRACE,
                spanId,
                ...(parent ? { parentSpanId: parent } : {}),
                name,
                startTimeUnixNano: String(BigInt(startMs) * 1_000_000n),
                endTimeUnixNano: String(BigInt(endMs) * 1_000_000n),
                status: error ? { code: 2, message: 'Seat is already held or sold' } : {},
              },
            ],
          },
        ],
      },
    ],
  })
writeFileSync(
  tracesFile,
  `{"cut short\n${span('1'.repeat(16), undefined, 'gateway', 'POST /api/reservations', 1_000, 1_040, true)}\n${span('2'.repeat(16), '1'.repeat(16), 'booking-service', 'POST /api/reservations', 1_010, 1_030, true)}\n`,
)

const standIn = `http://127.0.0.1:${(alertmanager.address() as AddressInfo).port}`
// The console is on the gateway's admin listener, beside the operator switches.
const { app } = await buildTestApp(import.meta.url, {
  ALERTMANAGER_URL: standIn,
  BOOKING_URLS: standIn,
  TRACES_FILE: tracesFile,
  CONSOLE_REFRESH_MS: '500',
  OPERATOR_SECRET: OPERATOR_TEST_SECRET,
})
const operator = app.admin
const { app: bare } = await buildTestApp(import.meta.url, {
  ALERTMANAGER_URL: 'http://127.0.0.1:9',
  BOOKING_URLS: 'http://127.0.0.1:9',
  CONSOLE_REFRESH_MS: '500',
  OPERATOR_SECRET: OPERATOR_TEST_SECRET,
})
const bareOperator = bare.admin
const as = (name?: string) => ({ [OPERATOR_SECRET_HEADER]: OPERATOR_TEST_SECRET, ...(name ? { 'x-operator-name': name } : {}) })

describe('the operator console', () => {
  it('when the page is asked for without the secret, then it is served; its API is not', async () => {
    const page = await operator.inject({ method: 'GET', url: '/console/' })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('Operator console')
    expect((await operator.inject({ method: 'GET', url: '/console' })).statusCode).toBe(302)
    expect((await operator.inject({ method: 'GET', url: '/console/runbook.html' })).body).toContain('id="slow-responses"')
    for (const url of ['/console/api/overview', '/console/api/../api/overview', '/console//api/overview', '/switches']) {
      const api = await operator.inject({ method: 'GET', url })
      expect([403, 404], url).toContain(api.statusCode)
      expect(api.body, url).not.toContain('rankingEnabled')
    }
    expect((await operator.inject({ method: 'GET', url: '/console/api/overview' })).json().code).toBe('AUTH_OPERATOR_FORBIDDEN')
  })

  it('when an operator pauses a line, then the line is paused and the change is recorded with who and when', async () => {
    await app.redis.sadd(CONCERTS_KEY, 'console-c1')
    const paused = await operator.inject({ method: 'POST', url: '/console/api/lines/console-c1/pause', headers: as('Dana on call') })
    expect(paused.statusCode).toBe(200)
    expect(paused.json()).toMatchObject({ concertId: 'console-c1', paused: true })
    const overview = (await operator.inject({ method: 'GET', url: '/console/api/overview', headers: as() })).json()
    expect(overview.lines.find((l: { concertId: string }) => l.concertId === 'console-c1')).toMatchObject({ title: 'Console hall', paused: true, pollsPerSecond: null })
    expect(overview.changes[0]).toMatchObject({ who: 'Dana on call', action: 'queue:pause', target: 'console-c1' })
    expect(Date.now() - Date.parse(overview.changes[0].at)).toBeLessThan(60_000)
    expect(overview.polls).toEqual({ configured: false })
  })

  it('when a change carries a bad name or value, then it is a 400 problem and nothing is switched', async () => {
    const badName = await operator.inject({ method: 'POST', url: '/console/api/lines/console-c1/resume', headers: as('<script>') })
    expect(badName.statusCode).toBe(400)
    const badRate = await operator.inject({ method: 'PUT', url: '/console/api/lines/console-c1/rate', headers: as('Dana'), payload: { perSecond: -1 } })
    expect(badRate.statusCode).toBe(400)
    const status = (await operator.inject({ method: 'GET', url: '/console/api/overview', headers: as() })).json()
    expect(status.lines.find((l: { concertId: string }) => l.concertId === 'console-c1')).toMatchObject({ paused: true, ratePerSecond: 'default' })
  })

  it('lists the alerts Alertmanager says are firing, each with its runbook section; says so when it cannot ask', async () => {
    const { alerts } = (await operator.inject({ method: 'GET', url: '/console/api/overview', headers: as() })).json()
    expect(alerts).toMatchObject({ configured: true, reachable: true })
    expect(alerts.value).toEqual([{ name: 'SlowResponses', severity: 'P2', summary: 'booking p95 above 1 s', runbookSection: 'slow-responses', since: '2026-01-01T20:01:00Z' }])
    const down = (await bareOperator.inject({ method: 'GET', url: '/console/api/overview', headers: as() })).json()
    expect(down.alerts).toMatchObject({ configured: true, reachable: false })
    expect(down.traces).toEqual({ source: null })
  })

  it('shows a failing trace from the traces file as a waterfall across services, and finds it by id', async () => {
    const { traces } = (await operator.inject({ method: 'GET', url: '/console/api/overview', headers: as() })).json()
    expect(traces.failing.map((t: { traceId: string }) => t.traceId)).toEqual([TRACE])
    const found = await operator.inject({ method: 'GET', url: `/console/api/traces/${TRACE.toUpperCase()}`, headers: as() })
    expect(found.statusCode).toBe(200)
    expect(found.json().trace.rows.map((r: { service: string; depth: number; error: boolean }) => [r.service, r.depth, r.error])).toEqual([
      ['gateway', 0, true],
      ['booking-service', 1, true],
    ])
    const missing = await operator.inject({ method: 'GET', url: `/console/api/traces/${'0'.repeat(32)}`, headers: as() })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().detail).toContain('No span of trace')
  })

  it('when spans are appended after a read, then they are found once the refresh interval passed', async () => {
    const later = 'cd'.repeat(16)
    appendFileSync(tracesFile, `${span('3'.repeat(16), undefined, 'gateway', 'GET /api/points', 2_000, 2_700).replace(TRACE, later)}\n`)
    await new Promise((r) => setTimeout(r, 600))
    const found = await operator.inject({ method: 'GET', url: `/console/api/traces/${later}`, headers: as() })
    expect(found.statusCode).toBe(200)
    const { traces } = (await operator.inject({ method: 'GET', url: '/console/api/overview', headers: as() })).json()
    expect(traces.slow.map((t: { traceId: string }) => t.traceId)).toContain(later)
    expect(traces.failing.map((t: { traceId: string }) => t.traceId)).toEqual([TRACE])
  })
})
