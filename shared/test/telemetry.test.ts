import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, isolation, startOtlpReceiver } from '@tickets/testkit'

const run = promisify(execFile)
const receiver = await startOtlpReceiver()
afterAll(() => receiver.close())
const iso = isolation(import.meta.url)

async function waitFor<T>(get: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await get()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

interface FixtureAnswer {
  workTrace: string
  failBody: { status: number; traceId: string }
  failTrace: string
}

/** The fixture's answer: its one stdout line with workTrace (its logger, pino on stdout, may write after it as it shuts down). */
function answerOf(stdout: string): FixtureAnswer {
  for (const line of stdout.trim().split('\n')) {
    try {
      const o = JSON.parse(line) as Partial<FixtureAnswer>
      if (o && typeof o === 'object' && 'workTrace' in o) return o as FixtureAnswer
    } catch {
      // not a JSON line
    }
  }
  throw new Error(`the fixture printed no answer line:\n${stdout}`)
}

/** Runs the traced fixture under the telemetry bootstrap, exporting to the receiver, on its own NATS namespace. */
async function runTracedApp(namespace: string): Promise<FixtureAnswer> {
  const { stdout } = await run(process.execPath, ['--import', '@tickets/shared/telemetry/register', fileURLToPath(new URL('./fixtures/traced-app.mjs', import.meta.url))], {
    env: {
      ...process.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'traced',
      NATS_URL: 'nats://127.0.0.1:4222',
      NAMESPACE: namespace,
      REDIS_PREFIX: iso.redisPrefix,
    },
    timeout: 20_000,
  })
  return answerOf(stdout)
}

describe('the telemetry bootstrap (node --import @tickets/shared/telemetry/register)', () => {
  it('makes one trace of a request: server span, Redis, the JetStream publish and the consumer, parented correctly', async () => {
    const out = await runTracedApp(iso.natsNamespace)
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
    const out = await runTracedApp(`${iso.natsNamespace}b`)
    expect(out.failBody.status).toBe(500)
    expect(out.failBody.traceId).toBe(out.failTrace)
    const failed = await waitFor(() => receiver.spans.find((s) => s.traceId === out.failBody.traceId && s.attributes['tickets.error'] === true), 'the failing span')
    expect(failed.service).toBe('traced')
  })
})

describe('tracing with the collector away (the gearbox)', () => {
  it('runs untraced with correlation ids while the collector is away, traces once it answers, pauses when it goes', async () => {
    const port = await freePort()
    const child = spawn(process.execPath, ['--import', '@tickets/shared/telemetry/register', fileURLToPath(new URL('./fixtures/geared-app.mjs', import.meta.url))], {
      env: {
        ...process.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_SERVICE_NAME: 'geared',
        TELEMETRY_PROBE_INTERVAL_MS: '200',
        REDIS_PREFIX: iso.redisPrefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const stdout: string[] = []
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => stdout.push(...c.toString('utf8').split('\n').filter(Boolean)))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')))
    try {
      const base = await waitFor(() => /LISTENING (\S+)/.exec(stderr)?.[1], 'the app to listen')
      const admin = /ADMIN (\S+)/.exec(stderr)?.[1]
      const tracingActive = async () => /^otel_tracing_active\{[^}]*\} (\d)/m.exec(await (await fetch(`${admin}/metrics`)).text())?.[1]

      // No collector: no spans, but the caller's trace id in the header, the problem and the log line.
      expect(await tracingActive()).toBe('0')
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
      const failed = await fetch(`${base}/fail`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } })
      expect(failed.status).toBe(500)
      expect(failed.headers.get('x-trace-id')).toBe(traceId)
      expect(((await failed.json()) as { traceId: string }).traceId).toBe(traceId)
      const logged = await waitFor(() => stdout.map((l) => JSON.parse(l) as { msg?: string; trace_id?: string }).find((l) => l.msg === 'request failed'), 'the error log line')
      expect(logged.trace_id).toBe(traceId)

      // The collector comes: the next probe engages tracing and spans reach it.
      let receiver = await startOtlpReceiver({ port })
      await waitFor(async () => ((await tracingActive()) === '1' ? true : undefined), 'tracing to engage')
      const work = await fetch(`${base}/work`)
      const workTrace = work.headers.get('x-trace-id')!
      const server = await waitFor(() => receiver.spans.find((s) => s.traceId === workTrace && s.kind === 2), 'the server span')
      expect(receiver.spans.some((s) => s.traceId === workTrace && s.name === 'incr' && s.parentSpanId === server.spanId)).toBe(true)

      // The collector goes: after two failed exports tracing pauses; it engages again when it is back.
      await receiver.close()
      await waitFor(async () => {
        await fetch(`${base}/work`)
        return (await tracingActive()) === '0' ? true : undefined
      }, 'tracing to pause')
      receiver = await startOtlpReceiver({ port })
      await waitFor(async () => ((await tracingActive()) === '1' ? true : undefined), 'tracing to engage again')
      await receiver.close()
    } finally {
      child.kill('SIGTERM')
    }
  })
})
