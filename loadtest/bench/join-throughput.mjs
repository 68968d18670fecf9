#!/usr/bin/env node
// `npm run bench:join`: joins and polls per second through the system as `npm start` runs it (the
// same script, log level, shedding, telemetry registration and supervision), against a bare
// @fastify/http-proxy hop to an empty upstream, in the same run on the same machine, with the server
// CPU per successful request of every process that serves it. A benchmark, not a test: it prints figures.
//   BENCH_DURATION_S (15), BENCH_CONNECTIONS (20), BENCH_FANS (150000), BENCH_SCALE ("queue=2,booking=2")
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { signUserToken } from '@tickets/contracts/auth'
import { freePort } from '@tickets/testkit'
import autocannon from 'autocannon'
import { cpuPerRequest, processTree, root, startStack } from './stack.mjs'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const FANS = Number(process.env.BENCH_FANS ?? 150_000)
const POLLERS = 5_000
const scale = Object.fromEntries(
  (process.env.BENCH_SCALE ?? '')
    .split(',')
    .filter(Boolean)
    .map((s) => s.split('='))
    .map(([k, v]) => [k, Number(v)]),
)

const baseline = []
function startBaseline(args) {
  const child = spawn(process.execPath, ['loadtest/bench/bare-proxy.mjs', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
  baseline.push(child)
  return child.pid
}

/** CPU ms of a process and every process below it (a clustered proxy's workers). */
function cpuMsOf(pid) {
  let ms = 0
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')
      ms += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
    } catch {
      if (p === pid) return null
    }
  }
  return ms
}

async function ready(url) {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (r) => r.ok || r.status < 500,
        () => false,
      )
    )
      return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url} did not come up`)
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ duration: DURATION_S, connections: CONNECTIONS, ...opts }, (err, result) => (err ? reject(err) : resolve(result)))
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false })
  })
}

const stack = await startStack({ scale })
console.error(`npm start is up (${Object.keys(stack.processes()).join(', ')})`)
// The bare hop runs in as many processes as npm start runs gateways.
const gatewayProcesses = Object.keys(stack.processes()).filter((name) => /^gateway(-\d+)?$/.test(name)).length
const [upstreamPort, barePort] = await Promise.all([freePort(), freePort()])
const upstreamPid = startBaseline(['upstream', String(upstreamPort)])
const proxyPid = startBaseline(['proxy', String(barePort), `http://127.0.0.1:${upstreamPort}`, String(gatewayProcesses)])
await ready(`http://127.0.0.1:${upstreamPort}/x`)
await ready(`http://127.0.0.1:${barePort}/api/queue/x`)

const tokens = await Promise.all(Array.from({ length: FANS }, (_, i) => signUserToken({ secret: stack.names.secret, userId: `fan-${i}` })))
// A concert of the demo catalogue that npm start seeds: booking knows it, as on a real opening.
const concertId = (await (await fetch(`${stack.gateway}/api/concerts`)).json()).concerts[0].concertId
const body = JSON.stringify({ concertId })
const json = { 'content-type': 'application/json' }
const fan = (i) => ({ authorization: `Bearer ${tokens[i]}`, 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` })

// New fans are drawn from one sequence across runs (the warm-up's fans are not new to the measured run).
let nextNewFan = POLLERS
const newFans = () => [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fan(nextNewFan++ % FANS) } }) }]
function cycling(pool, extra = () => ({})) {
  let next = 0
  return [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fan(next % pool), ...extra(next++ % pool) } }) }]
}

// Fans in line whose polls are measured: they joined first, and each keeps its own waiting token.
// A join shed on a busy machine (503 + Retry-After) is asked again: every poller needs a real token.
async function tokenOfNewFan(i) {
  for (;;) {
    const res = await fetch(`${stack.gateway}/api/queue/token`, { method: 'POST', headers: { ...json, ...fan(i) }, body })
    if (res.status === 201) return (await res.json()).token
    if (res.status !== 503 && res.status !== 429) throw new Error(`joining as fan ${i} answered ${res.status}: ${await res.text()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}
const queueTokens = []
for (let i = 0; i < POLLERS; i += 100) queueTokens.push(...(await Promise.all(Array.from({ length: 100 }, (_, j) => tokenOfNewFan(i + j)))))
// Far back in a line that moves at 50 a second: the polls are answered WAITING, as most are on opening day.
const polls = () => cycling(POLLERS, (i) => ({ 'x-queue-token': queueTokens[i] }))

const rows = []
const cpuRows = []
async function measured(name, pids, opts) {
  const before = pids ? Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, cpuMsOf(p)])) : stack.cpu()
  const result = await cannon(opts)
  const after = pids ? Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, cpuMsOf(p)])) : stack.cpu()
  const ok = result.requests.total - result.non2xx
  const { row, total } = cpuPerRequest(before, after, ok)
  cpuRows.push({ run: name, 'total µs': total, ...row })
  rows.push({
    run: name,
    // Successful requests only: a refused request is not throughput.
    'req/s': Math.round(ok / result.duration),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    requests: result.requests.total,
    statuses: Object.entries(result.statusCodeStats ?? {})
      .map(([code, { count }]) => `${code}: ${count}`)
      .join(', '),
    errors: result.errors + result.timeouts,
  })
}

const bare = { 'bare proxy': proxyPid, upstream: upstreamPid }
const joinAt = (url) => ({ url: `${url}/api/queue/token`, method: 'POST', body, headers: json })
// Every target is warmed up (JIT, connection pools) the same way before it is measured.
await cannon({ ...joinAt(`http://127.0.0.1:${barePort}`), duration: 3, requests: cycling(FANS) })
await cannon({ ...joinAt(stack.gateway), duration: 3, requests: newFans() })
await cannon({ url: `${stack.gateway}/api/queue/token`, duration: 3, requests: polls() })
await measured('baseline: bare http-proxy hop, empty upstream', bare, { ...joinAt(`http://127.0.0.1:${barePort}`), requests: cycling(FANS) })
await measured('npm start: new joins', null, { ...joinAt(stack.gateway), requests: newFans() })
await measured('npm start: polls (WAITING)', null, { url: `${stack.gateway}/api/queue/token`, requests: polls() })
await measured('npm start: re-joins (1,000 fans)', null, { ...joinAt(stack.gateway), requests: cycling(1_000) })
await measured('baseline again', bare, { ...joinAt(`http://127.0.0.1:${barePort}`), requests: cycling(FANS) })

const cpu = cpus()
console.log(`join and poll throughput, ${new Date().toISOString()}, ${cpu.length} x ${cpu[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`)
const changed = ['LOG_LEVEL', 'OTEL_SDK_DISABLED', 'NODE_HEAP_MB'].filter((k) => process.env[k] !== undefined).map((k) => `${k}=${process.env[k]}`)
console.log(
  `npm start${
    Object.keys(scale).length
      ? ` ${Object.entries(scale)
          .map(([k, v]) => `--scale ${k}=${v}`)
          .join(' ')}`
      : ''
  } (${gatewayProcesses} gateway process${gatewayProcesses > 1 ? 'es' : ''}, the bare hop as many) with TRUSTED_PROXIES=127.0.0.0/8 and ${changed.length ? `${changed.join(' ')} (a tuned variant, not the default)` : 'nothing else changed (the default)'}; autocannon ${CONNECTIONS} connections, ${DURATION_S} s per run, on the same cores`,
)
console.table(rows)
console.log('server CPU µs per successful request, by process (from /proc; under 0.5 µs left out; the load generator not counted)')
console.table(cpuRows)
const joined = rows[1]['req/s']
const bareRate = (rows[0]['req/s'] + rows[4]['req/s']) / 2
if (nextNewFan > FANS) console.log(`note: ${nextNewFan} new joins asked for ${FANS} fans (BENCH_FANS): some "new" joins were re-joins`)
console.log(`new joins reach ${Math.round((joined / bareRate) * 100)}% of the bare proxy hop's throughput (the mean of its two runs)`)
for (const c of baseline) c.kill('SIGTERM')
await stack.stop()
process.exit(0)
