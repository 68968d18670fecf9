import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { NodeSDK } from '@opentelemetry/sdk-node'
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import pino from 'pino'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { BackgroundWork } from '../src/background.js'
import { currentClaim } from '../src/connection-line.js'
import { connectNats, requestTraced, serveRpc } from '../src/nats.js'
import { isolation } from '@tickets/testkit'

const exporter = new InMemorySpanExporter()
const sdk = new NodeSDK({ serviceName: 'rpc-tracing', spanProcessors: [new SimpleSpanProcessor(exporter)], instrumentations: [], resourceDetectors: [] })
sdk.start()
const tracer = trace.getTracer('test')
const iso = isolation(import.meta.url)
const log = pino({ level: 'silent' })
const bus = await connectNats({ url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', name: 'rpc-tracing', namespace: iso.natsNamespace })
const servers: BackgroundWork[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  await bus.close()
  await sdk.shutdown()
})
beforeEach(() => exporter.reset())

describe('core-NATS request/reply with the trace in the headers', () => {
  it('when a traced request is answered, then the responder SERVER span is a child of the CLIENT span, in the caller trace', async () => {
    servers.push(serveRpc(bus, 'rpc.test.echo', async (data) => ({ echo: data }), log))
    const { reply, caller } = await tracer.startActiveSpan('caller', async (span) => {
      const answer = await requestTraced<{ echo: unknown }>(bus, 'rpc.test.echo', { n: 1 }, { timeoutMs: 2_000 })
      span.end()
      return { reply: answer, caller: span.spanContext() }
    })
    expect(reply).toEqual({ echo: { n: 1 } })
    const spans = exporter.getFinishedSpans()
    const client = spans.find((s) => s.kind === SpanKind.CLIENT)!
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!
    expect(client.parentSpanContext?.spanId).toBe(caller.spanId)
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId)
    expect(server.spanContext().traceId).toBe(caller.traceId)
  })

  it("when a request is answered, then the handler runs with its caller's deadline and whether it is work under way", async () => {
    const seen = () => {
      const claim = currentClaim()
      return { underWay: claim?.underWay, leftMs: claim?.until === undefined ? undefined : claim.until - performance.now() }
    }
    servers.push(
      serveRpc(bus, 'rpc.test.claim', async () => seen(), log),
      serveRpc(bus, 'rpc.test.claim-under-way', async () => seen(), log, { underWay: true }),
    )
    const plain = await requestTraced<{ underWay: boolean; leftMs: number }>(bus, 'rpc.test.claim', {}, { timeoutMs: 600 })
    const underWay = await requestTraced<{ underWay: boolean; leftMs: number }>(bus, 'rpc.test.claim-under-way', {}, { timeoutMs: 600 })
    expect(plain.underWay).toBe(false)
    expect(underWay.underWay).toBe(true)
    for (const { leftMs } of [plain, underWay]) {
      expect(leftMs).toBeGreaterThan(0)
      expect(leftMs).toBeLessThanOrEqual(600)
    }
  })

  it('when two responders share a queue group, then each request is answered by exactly one of them', async () => {
    const calls = [0, 0]
    for (const i of [0, 1]) servers.push(serveRpc(bus, 'rpc.test.group', async () => ++calls[i]!, log, { queue: 'group' }))
    await bus.nc.flush()
    for (let n = 0; n < 20; n++) await requestTraced(bus, 'rpc.test.group', {}, { timeoutMs: 2_000 })
    expect(calls[0]! + calls[1]!).toBe(20)
  })

  it("when the handler throws, then onError's answer is sent and the span is an error; without it the caller times out", async () => {
    servers.push(serveRpc(bus, 'rpc.test.fails', async () => Promise.reject(new Error('database down')), log, { onError: () => ({ ok: false, code: 'COMMON_DEPENDENCY_DOWN' }) }))
    servers.push(serveRpc(bus, 'rpc.test.silent', async () => Promise.reject(new Error('database down')), log))
    expect(await requestTraced(bus, 'rpc.test.fails', {}, { timeoutMs: 2_000 })).toEqual({ ok: false, code: 'COMMON_DEPENDENCY_DOWN' })
    expect(exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)?.status.code).toBe(SpanStatusCode.ERROR)
    await expect(requestTraced(bus, 'rpc.test.silent', {}, { timeoutMs: 300 })).rejects.toThrow(/timeout/i)
  })

  it('when the responder is stopped while it answers, then stop() waits for the answer, and the caller gets it', async () => {
    let finished = false
    let started!: () => void
    const handling = new Promise<void>((resolve) => (started = resolve))
    const server = serveRpc(
      bus,
      'rpc.test.slow',
      async () => {
        started()
        await new Promise((resolve) => setTimeout(resolve, 300))
        finished = true
        return { done: true }
      },
      log,
    )
    await bus.nc.flush()
    const answer = requestTraced(bus, 'rpc.test.slow', {}, { timeoutMs: 2_000 })
    await handling
    await server.stop()
    expect(finished).toBe(true)
    expect(await answer).toEqual({ done: true })
  })
})
