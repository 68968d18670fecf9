#!/usr/bin/env node
// `npm run bench:challenge`: what the join challenge costs. (1) The gateway's CPU per join with the
// challenge off, per join refused for its proof, and per join with a proof, measured in the same run
// on the same machine: one gateway process (as `npm start` runs it) in front of an upstream that
// answers every join 201 at once, so the figures are the gateway's own work and the difference is
// the challenge's. (2) One client joining as fast as it can, one new user after another, with the
// challenge off and on at the default difficulty: the rate a script on one core gets.
// A benchmark, not a test: it prints figures.
//   BENCH_DURATION_S (10), BENCH_ROUNDS (2), BENCH_CONNECTIONS (20), BENCH_FANS (2000), BENCH_SOLO_S (30), BENCH_DIFFICULTY (the default)
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { signUserToken } from '@tickets/contracts/auth'
import { DEFAULT_CHALLENGE_DIFFICULTY, issueChallenge, solveChallenge, challengeKey } from '@tickets/contracts/queue-challenge'
import autocannon from 'autocannon'
import { freePort, root, startService } from './lib.mjs'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const FANS = Number(process.env.BENCH_FANS ?? 2_000)
const SOLO_S = Number(process.env.BENCH_SOLO_S ?? 30)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const DIFFICULTY = Number(process.env.BENCH_DIFFICULTY ?? DEFAULT_CHALLENGE_DIFFICULTY)
// Proofs for the gateway's CPU runs are made at a low difficulty (checking one costs the same at any).
const CHEAP_DIFFICULTY = 8
const CONCERT = 'bench-concert'

const loadAtStart = loadavg()
const secret = randomBytes(24).toString('hex')
const operatorSecret = randomBytes(24).toString('hex')
const [upstreamPort, adminPort] = await Promise.all([freePort(), freePort()])
const upstream = spawn(process.execPath, ['loadtest/bench/bare-proxy.mjs', 'upstream', String(upstreamPort)], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`
const gateway = await startService('gateway', {
  AUTH_JWT_SECRET: secret,
  REDIS_PREFIX: `bench:challenge:${randomBytes(3).toString('hex')}:`,
  QUEUE_URLS: upstreamUrl,
  BOOKING_URLS: upstreamUrl,
  PAYMENT_URLS: upstreamUrl,
  OPERATOR_SECRET: operatorSecret,
  ADMIN_PORT: String(adminPort),
  TRUSTED_PROXIES: '127.0.0.0/8',
})

async function challengeSwitch(difficulty) {
  const res = await fetch(`http://127.0.0.1:${adminPort}/switches/challenge/${CONCERT}`, {
    method: difficulty === null ? 'DELETE' : 'PUT',
    headers: { 'x-operator-secret': operatorSecret, ...(difficulty === null ? {} : { 'content-type': 'application/json' }) },
    ...(difficulty === null ? {} : { body: JSON.stringify({ difficulty }) }),
  })
  if (!res.ok) throw new Error(`the gateway's operator switches answered ${res.status}`)
  // Every instance re-reads the switches within SWITCH_CACHE_MS (500 ms by default).
  await new Promise((r) => setTimeout(r, 1_000))
}

function cpuMsOf(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
}

const users = Array.from({ length: FANS }, (_, i) => `bench-fan-${i}`)
const tokens = await Promise.all(users.map((userId) => signUserToken({ secret, userId })))
const body = JSON.stringify({ concertId: CONCERT })
const address = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
const fan = (i) => ({ authorization: `Bearer ${tokens[i]}`, 'x-forwarded-for': address(i) })
function cycling(extra = () => ({})) {
  let next = 0
  return [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fan(next % FANS), ...extra(next++ % FANS) } }) }]
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    const run = autocannon(
      { url: `${gateway.url}/api/queue/token`, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, ...opts },
      (err, result) => (err ? reject(err) : resolve(result)),
    )
    autocannon.track(run, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false })
  })
}

const rows = []
async function measured(name, expectStatus, requests) {
  await cannon({ duration: 2, requests })
  const before = cpuMsOf(gateway.pid)
  const result = await cannon({ duration: DURATION_S, requests })
  const cpuMs = cpuMsOf(gateway.pid) - before
  const wanted = result.statusCodeStats?.[expectStatus]?.count ?? 0
  rows.push({
    run: name,
    answered: `${wanted} x ${expectStatus}`,
    others: Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => code !== expectStatus)
      .map(([code, { count }]) => `${count} x ${code}`)
      .join(', '),
    'req/s': Math.round(wanted / result.duration),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    'gateway CPU µs/req': Math.round((cpuMs * 1000) / Math.max(1, result.requests.total)),
  })
}

// Warmed up first (JIT, connections, every fan seen twice: a fan's first request costs the gateway
// far more than the next), then measured in rounds, off and on side by side: on a busy machine a
// single run of each says more about the neighbours than about the challenge.
const key = challengeKey(secret)
await challengeSwitch(null)
await cannon({ amount: 2 * FANS, requests: cycling() })
for (let round = 1; round <= ROUNDS; round++) {
  await challengeSwitch(null)
  await measured(`${round}: challenge off, joins`, '201', cycling())
  await challengeSwitch(CHEAP_DIFFICULTY)
  await measured(`${round}: challenge on, joins without a proof (refused)`, '403', cycling())
  // Made now: a nonce is good for CHALLENGE_TTL_SECONDS (120 s), longer than the run.
  const proofs = users.map((userId) => solveChallenge(issueChallenge(key, { concertId: CONCERT, userId }, CHEAP_DIFFICULTY)))
  await measured(
    `${round}: challenge on, joins with a proof`,
    '201',
    cycling((i) => ({ 'x-queue-proof': proofs[i] })),
  )
}
await challengeSwitch(null)

/** One client, one new user after another, for SOLO_S seconds: joins/s, and the solve times of the joins refused for a proof. */
async function solo() {
  const solves = []
  const solveCpu = []
  let joins = 0
  let i = 0
  const until = Date.now() + SOLO_S * 1000
  while (Date.now() < until) {
    const n = i++ % FANS
    const send = (proof) =>
      fetch(`${gateway.url}/api/queue/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...fan(n), ...(proof ? { 'x-queue-proof': proof } : {}) }, body })
    let res = await send()
    if (res.status === 403) {
      const { challenge } = await res.json()
      const started = performance.now()
      const cpu = process.cpuUsage()
      const proof = solveChallenge(challenge)
      solves.push(performance.now() - started)
      const used = process.cpuUsage(cpu)
      solveCpu.push((used.user + used.system) / 1000)
      res = await send(proof)
    } else await res.arrayBuffer()
    if (res.status === 201) joins++
    await res.arrayBuffer().catch(() => undefined)
  }
  solves.sort((a, b) => a - b)
  const at = (p) => (solves.length ? Math.round(solves[Math.min(solves.length - 1, Math.floor(p * solves.length))]) : '-')
  const mean = (xs) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : '-')
  return { joins, 'joins/s': (joins / SOLO_S).toFixed(2), 'solve mean ms': mean(solves), 'solve p50 ms': at(0.5), 'solve p95 ms': at(0.95), 'solve CPU ms (mean)': mean(solveCpu) }
}
const soloRows = [{ run: 'challenge off', ...(await solo()) }]
await challengeSwitch(DIFFICULTY)
soloRows.push({ run: `challenge on, ${DIFFICULTY} bits`, ...(await solo()) })
await challengeSwitch(null)

const cpu = cpus()
console.log(`join challenge cost, ${new Date().toISOString()}, ${cpu.length} x ${cpu[0]?.model.trim()}, Node ${process.version}`)
console.log(
  `load average at start ${loadAtStart.map((l) => l.toFixed(1)).join(' ')}, at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (1, 5, 15 min)`,
)
console.log(
  `one gateway (as npm start runs it) in front of an upstream answering 201 at once; autocannon ${CONNECTIONS} connections, ${DURATION_S} s per run, ${FANS} fans from their own addresses`,
)
console.table(rows)
console.log(`one client on one core, each join a new user from its own address, ${SOLO_S} s each (the gateway's per-address limit does not bind)`)
console.table(soloRows)
upstream.kill('SIGTERM')
await gateway.stop()
process.exit(0)
