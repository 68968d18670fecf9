#!/usr/bin/env node
// `npm run bench:join`: joins per second through the gateway (auth, proxy hop, queue-service, Redis
// Lua) against a bare @fastify/http-proxy hop to an empty upstream, in the same run on the same
// machine. Needs Redis and NATS (npm run stack). A benchmark, not a test: it prints figures.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import { signUserToken } from '@tickets/shared/auth'
import { freePort } from '@tickets/shared/testing'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'

const root = fileURLToPath(new URL('../../', import.meta.url))
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const SECRET = randomBytes(24).toString('hex')
const run = randomBytes(3).toString('hex')
const children = []

const pids = {}
function start(name, args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'ignore', 'inherit'] })
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${code ?? signal})`)
      process.exit(1)
    }
  })
  children.push(child)
  pids[name] = child.pid
}

// CPU time a process has used so far (user + system), from /proc; null where /proc is not there.
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  } catch {
    return null
  }
}

let stopping = false
function stopAll() {
  stopping = true
  for (const c of children) c.kill('SIGTERM')
}
process.on('exit', stopAll)

async function ready(url) {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not come up`)
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ duration: DURATION_S, connections: CONNECTIONS, method: 'POST', ...opts }, (err, result) => (err ? reject(err) : resolve(result)))
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false })
  })
}

const [upstreamPort, barePort, queuePort, gatewayPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
const common = { AUTH_JWT_SECRET: SECRET, REDIS_PREFIX: `bench:${run}:`, NATS_NAMESPACE: `bench_${run}`, OTEL_SDK_DISABLED: 'true' }
start('upstream', ['loadtest/bench/bare-proxy.mjs', 'upstream', String(upstreamPort)])
start('bare proxy', ['loadtest/bench/bare-proxy.mjs', 'proxy', String(barePort), `http://127.0.0.1:${upstreamPort}`])
start('queue-service', ['queue-service/dist/server.js'], { ...common, PORT: String(queuePort) })
// BENCH_PROFILE_DIR=<dir>: the gateway writes a V8 CPU profile there when the run ends.
const profile = process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : []
start('gateway', [...profile, 'gateway/dist/server.js'], {
  ...common,
  PORT: String(gatewayPort),
  QUEUE_URLS: `http://127.0.0.1:${queuePort}`,
  // Many fans from one machine: their address comes from X-Forwarded-For (see api.md, rate limits).
  TRUSTED_PROXIES: '127.0.0.0/8',
  // Throughput is measured at saturation, where shedding would answer fast 503s instead.
  SHED_MAX_EVENT_LOOP_UTILIZATION: '1',
  SHED_JOIN_MAX_EVENT_LOOP_UTILIZATION: '1',
  SHED_MAX_EVENT_LOOP_DELAY_MS: '60000',
  SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: '60000',
})
await Promise.all([ready(`http://127.0.0.1:${upstreamPort}/x`), ready(`http://127.0.0.1:${queuePort}/health`), ready(`http://127.0.0.1:${gatewayPort}/health`)])

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
// Redis shares the cores when it runs on this machine: its CPU per request is counted too.
const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1])
if (['localhost', '127.0.0.1', '::1'].includes(redis.options.host) && redisPid && cpuMs(redisPid) !== null) pids.redis = redisPid

const FANS = Number(process.env.BENCH_FANS ?? 150_000)
const tokens = await Promise.all(Array.from({ length: FANS }, (_, i) => signUserToken({ secret: SECRET, userId: `fan-${i}` })))
const concertId = `bench-${run}`
const body = JSON.stringify({ concertId })
const headers = { 'content-type': 'application/json' }

// New fans are drawn from one sequence across runs (the warm-up's fans are not new to the measured
// run); returning fans cycle through the first `pool`.
let nextNewFan = 0
const fan = (i) => ({ authorization: `Bearer ${tokens[i]}`, 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` })
const newFans = () => [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fan(nextNewFan++ % FANS) } }) }]
function returningFans(pool) {
  let next = 0
  return [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fan(next++ % pool) } }) }]
}

// The baseline gets the same requests as the gateway (each fan's token and address), so the load
// generator, which shares the cores, spends as much per request on either target.
function baselineRequests() {
  let next = 0
  return [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fan(next++ % FANS) } }) }]
}

function directRequests() {
  let next = 0
  return [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'x-user-id': `direct-${next++}` } }) }]
}

const rows = []
const cpuRows = []
// CPU microseconds per successful request of every process in the run (Redis and this load
// generator included): the figures that say where the gap is, whatever else the cores were doing.
async function measured(name, opts) {
  const processes = { ...pids, 'load generator': process.pid }
  const before = Object.fromEntries(Object.entries(processes).map(([n, pid]) => [n, cpuMs(pid)]))
  const result = await cannon(opts)
  const ok = result.requests.total - result.non2xx
  const row = { run: name }
  for (const [n, pid] of Object.entries(processes)) {
    const after = cpuMs(pid)
    const used = before[n] === null || after === null || ok === 0 ? null : Math.round(((after - before[n]) * 1000) / ok)
    if (used !== 0) row[n] = used ?? ''
  }
  cpuRows.push(row)
  return result
}

function record(name, r) {
  rows.push({
    run: name,
    // Successful joins only: a refused request is not throughput.
    'req/s': Math.round((r.requests.total - r.non2xx) / r.duration),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    requests: r.requests.total,
    'non-2xx': r.non2xx,
    statuses: Object.entries(r.statusCodeStats ?? {}).map(([code, { count }]) => `${code}: ${count}`).join(', '),
    errors: r.errors + r.timeouts,
  })
}

// Every process is warmed up (JIT, connection pools) before it is measured, the same way.
await cannon({ url: `http://127.0.0.1:${barePort}/api/queue/token`, body, headers, duration: 2, requests: baselineRequests() })
await cannon({ url: `http://127.0.0.1:${gatewayPort}/api/queue/token`, body, headers, duration: 2, requests: newFans() })
await cannon({ url: `http://127.0.0.1:${queuePort}/api/queue/token`, body, headers, duration: 2, requests: directRequests() })
record('baseline: bare http-proxy hop, empty upstream', await measured('baseline', { url: `http://127.0.0.1:${barePort}/api/queue/token`, body, headers, requests: baselineRequests() }))
record('gateway -> queue-service: new joins', await measured('gateway: new joins', { url: `http://127.0.0.1:${gatewayPort}/api/queue/token`, body, headers, requests: newFans() }))
record('queue-service alone (no gateway): new joins', await measured('queue-service alone', { url: `http://127.0.0.1:${queuePort}/api/queue/token`, body, headers, requests: directRequests() }))
record('gateway -> queue-service: re-joins (1,000 fans)', await measured('gateway: re-joins', { url: `http://127.0.0.1:${gatewayPort}/api/queue/token`, body, headers, requests: returningFans(1_000) }))
record('baseline again', await measured('baseline again', { url: `http://127.0.0.1:${barePort}/api/queue/token`, body, headers, requests: baselineRequests() }))

const cpu = cpus()
console.log(`join throughput, ${new Date().toISOString()}, ${cpu.length} x ${cpu[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`)
console.log(`autocannon ${CONNECTIONS} connections, ${DURATION_S} s per run, load generator on the same cores`)
console.table(rows)
console.log('CPU µs per successful request, by process (from /proc; 0 left out)')
console.table(cpuRows)
const joined = rows[1]['req/s']
if (nextNewFan > FANS) console.log(`note: ${nextNewFan} new joins asked for ${FANS} fans (BENCH_FANS): some "new" joins were re-joins`)
console.log(`gateway joins reach ${Math.round((joined / rows[0]['req/s']) * 100)}% of the bare proxy hop's throughput`)
stopAll()
await new Promise((r) => setTimeout(r, 1_000)) // a profiling gateway writes its profile on the way out
const keys = []
for await (const batch of redis.scanStream({ match: `${common.REDIS_PREFIX}*`, count: 1_000 })) keys.push(...batch)
for (let i = 0; i < keys.length; i += 1_000) await redis.del(...keys.slice(i, i + 1_000))
await redis.quit()
// queue-service made its streams under this run's namespace: they would stay on the server for good.
const { connectNats } = await import('@tickets/shared/nats')
const bus = await connectNats({ url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench-join', namespace: common.NATS_NAMESPACE })
for (const s of ['BOOKING_EVENTS', 'PAYMENT_EVENTS', 'DEAD_LETTERS']) await bus.jsm.streams.delete(bus.names.stream(s)).catch(() => undefined)
await bus.close()
process.exit(0)
