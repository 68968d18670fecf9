// What the operator console costs the gateway that serves fans: the fans' path (GET /api/concerts
// through the gateway to an upstream) for a few seconds without a console, then with consoles
// refreshing the overview every 2 s while the services keep appending spans to the traces file.
// Prints req/s, p50/p99, the event loop's longest delay, and the CPU and Redis commands of one
// overview. Load generator and gateway share this process and the machine's cores: compare the
// figures of one run, not across machines.
// usage: node bench/console-cost.mjs [seconds=10] [consoles=1] [spansKBps=200]   (after `npm run build`)
import { appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import { Pool } from 'undici'
import { CONCERTS_KEY } from '@tickets/contracts/line-keys'
import { startBenchGateway } from './bench-gateway.mjs'

const seconds = Number(process.argv[2] ?? 10)
const consoles = Number(process.argv[3] ?? 1)
const spansKBps = Number(process.argv[4] ?? 200)
const secret = 'bench-secret-that-is-long-enough-for-hs256!'
const operatorSecret = 'bench-operator-secret-long-enough-too!!'
const tracesFile = join(tmpdir(), `console-cost-${process.pid}.jsonl`)

// A batch of 8 spans of one trace (gateway, booking), as the file exporter writes one export.
let traceNo = 0
function batchLine() {
  const traceId = (++traceNo).toString(16).padStart(32, '0')
  const spans = Array.from({ length: 8 }, (_, i) => ({
    traceId,
    spanId: (traceNo * 16 + i).toString(16).padStart(16, '0'),
    ...(i ? { parentSpanId: (traceNo * 16).toString(16).padStart(16, '0') } : {}),
    name: i ? 'SELECT tickets_booking.seats' : 'GET',
    kind: i ? 3 : 2,
    startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n + BigInt(i * 1000)),
    endTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n + BigInt(i * 1000 + 2_000_000)),
    attributes: [{ key: 'http.route', value: { stringValue: '/api/concerts' } }],
    status: i === 7 && traceNo % 50 === 0 ? { code: 2, message: 'boom' } : {},
  }))
  return `${JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'booking-service' } }] }, scopeSpans: [{ scope: { name: 'x' }, spans }] }] })}\n`
}
const lines = (kb) => {
  let text = ''
  while (text.length < kb * 1024) text += batchLine()
  return text
}
if (process.argv[2] === 'write-spans') {
  setInterval(() => appendFileSync(process.argv[3], lines(Number(process.argv[4]) / 4)), 250)
  await new Promise(() => undefined)
}
writeFileSync(tracesFile, lines(2 * 1024))

const upstream = Fastify()
upstream.all('/*', async () => ({ concerts: [] }))
const upstreamUrl = await upstream.listen({ port: 0, host: '127.0.0.1' })
const { gateway, gatewayUrl } = await startBenchGateway(upstreamUrl, { AUTH_JWT_SECRET: secret, OPERATOR_SECRET: operatorSecret, TRACES_FILE: tracesFile })
// The console is on the gateway's admin listener.
const operator = gateway.admin
for (let i = 1; i <= 5; i++) await gateway.redis.sadd(CONCERTS_KEY, `bench-concert-${i}`)

async function fans() {
  const pool = new Pool(gatewayUrl, { connections: 50 })
  const latencies = []
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const end = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (performance.now() < end) {
        const t = performance.now()
        const res = await pool.request({ path: '/api/concerts', method: 'GET' })
        await res.body.dump()
        latencies.push(performance.now() - t)
      }
    }),
  )
  delay.disable()
  await pool.close()
  latencies.sort((a, b) => a - b)
  const q = (p) => latencies[Math.floor(latencies.length * p)].toFixed(2)
  return `${Math.round(latencies.length / seconds)} req/s, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, event loop delay max ${(delay.max / 1e6).toFixed(1)} ms`
}

console.log(`fans without a console:                 ${await fans()}`)

let commands = 0
const countCommands = gateway.redis.sendCommand.bind(gateway.redis)
gateway.redis.sendCommand = (...args) => {
  commands++
  return countCommands(...args)
}
const headers = { 'x-operator-secret': operatorSecret }
const overview = async () => {
  const res = await operator.inject({ method: 'GET', url: '/console/api/overview', headers })
  if (res.statusCode !== 200) throw new Error(`overview answered ${res.statusCode}: ${res.body}`)
}

// Alone first: the CPU of the first overview (it reads and parses the file's last 2 MB), then of
// each later one while spans keep being appended.
let before = process.cpuUsage()
await overview()
let used = process.cpuUsage(before)
console.log(`first overview (2 MB of spans parsed): ${((used.user + used.system) / 1000).toFixed(1)} ms CPU`)
// The services' span writing, in a process of its own (its cost is theirs, not the console's).
const writer = spawn(process.execPath, [fileURLToPath(import.meta.url), 'write-spans', tracesFile, String(spansKBps)], { stdio: 'ignore' })
const delay = monitorEventLoopDelay({ resolution: 1 })
delay.enable()
before = process.cpuUsage()
let overviews = 0
commands = 0
const quietEnd = performance.now() + seconds * 1000
while (performance.now() < quietEnd) {
  await overview()
  overviews++
  await new Promise((r) => setTimeout(r, 2_000))
}
used = process.cpuUsage(before)
delay.disable()
console.log(
  `${overviews} overviews, one each 2 s, ${spansKBps} KB/s of spans appended: ${((used.user + used.system) / 1000 / seconds).toFixed(1)} ms CPU a second, ${(commands / overviews).toFixed(1)} Redis commands each (5 lines), event loop delay max ${(delay.max / 1e6).toFixed(1)} ms`,
)

const stop = performance.now() + seconds * 1000
const consoleLoops = Array.from({ length: consoles }, async (_, i) => {
  await new Promise((r) => setTimeout(r, (2_000 / consoles) * i))
  while (performance.now() < stop) {
    await overview()
    await new Promise((r) => setTimeout(r, 2_000))
  }
})
const withConsole = await fans()
await Promise.all(consoleLoops)
writer.kill()
console.log(`fans with ${consoles} console(s), ${spansKBps} KB/s of spans: ${withConsole}`)

await Promise.all([gateway.close(), upstream.close()])
rmSync(tracesFile, { force: true })
