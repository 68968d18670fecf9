import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { isolation, startOtlpReceiver } from '../src/testing.js'

const run = promisify(execFile)
const receiver = await startOtlpReceiver()
afterAll(() => receiver.close())
const iso = isolation(import.meta.url)

async function waitFor<T>(get: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = get()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('the telemetry bootstrap (node --import @tickets/shared/telemetry/register)', () => {
  it('makes one trace of a request: server span, Redis, the JetStream publish and the consumer, parented correctly', async () => {
    const { stdout } = await run(process.execPath, ['--import', '@tickets/shared/telemetry/register', fileURLToPath(new URL('./fixtures/traced-app.mjs', import.meta.url))], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'traced', NATS_URL: 'nats://127.0.0.1:4222', NAMESPACE: iso.natsNamespace, REDIS_PREFIX: iso.redisPrefix },
      timeout: 20_000,
    })
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!)
    const traceId: string = out.workTrace
    expect(traceId).toMatch(/^[0-9a-f]{32}$/)
    const consumer = await waitFor(() => receiver.spans.find((s) => s.traceId === traceId && s.name.endsWith('process')), 'the consumer span')
    const spans = receiver.spans.filter((s) => s.traceId === traceId)
    const byId = new Map(spans.map((s) => [s.spanId, s]))
    const server = spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/work')
    const publish = spans.find((s) => s.name.endsWith('publish'))
    const redisIncr = spans.find((s) => s.name === 'incr')
    expect(server, 'server span').toBeDefined()
    expect(publish, 'publish span').toBeDefined()
    expect(redisIncr, 'redis span').toBeDefined()
    expect(byId.get(consumer.parentSpanId!)?.spanId).toBe(publish!.spanId)
    const ancestors = (span: { parentSpanId: string | undefined }) => {
      const chain: string[] = []
      for (let p = span.parentSpanId; p && byId.get(p); p = byId.get(p)!.parentSpanId) chain.push(p)
      return chain
    }
    expect(ancestors(publish!)).toContain(server!.spanId)
    expect(ancestors(redisIncr!)).toContain(server!.spanId)
  })

  it('returns the trace id of a failing request in the problem body, and that trace holds the failing span', async () => {
    const { stdout } = await run(process.execPath, ['--import', '@tickets/shared/telemetry/register', fileURLToPath(new URL('./fixtures/traced-app.mjs', import.meta.url))], {
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'traced', NATS_URL: 'nats://127.0.0.1:4222', NAMESPACE: `${iso.natsNamespace}b`, REDIS_PREFIX: iso.redisPrefix },
      timeout: 20_000,
    })
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!)
    expect(out.failBody.status).toBe(500)
    expect(out.failBody.traceId).toBe(out.failTrace)
    const failed = await waitFor(() => receiver.spans.find((s) => s.traceId === out.failBody.traceId && s.attributes['tickets.error'] === true), 'the failing span')
    expect(failed.service).toBe('traced')
  })
})
