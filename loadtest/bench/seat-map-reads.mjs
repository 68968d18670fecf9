#!/usr/bin/env node
// `npm run bench:seats`: seat-map reads (GET .../schedules/:id/seats, a queue route) through the system
// as `npm start` runs it, against a Fastify hello-world that answers the same seat-map JSON from
// memory, in the same run, with the server CPU per successful read of every process that serves it.
// A benchmark, not a test: it prints figures.   BENCH_DURATION_S (10), BENCH_CONNECTIONS (20)
import { cpus } from 'node:os'
import { signUserToken } from '@tickets/contracts/auth'
import { queueTokenKey, signQueueToken } from '@tickets/contracts/queue-token'
import autocannon from 'autocannon'
import Fastify from 'fastify'
import { cpuPerRequest, startStack } from './stack.mjs'

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20)
const FANS = 1_000

const stack = await startStack()
const { concerts } = await (await fetch(`${stack.gateway}/api/concerts`)).json()
const concertId = concerts[0].concertId
const { schedules } = await (await fetch(`${stack.gateway}/api/concerts/${concertId}/schedules`)).json()
const path = `/api/concerts/${concertId}/schedules/${schedules[0].scheduleId}/seats`

// Admitted fans, as the waiting room would have signed them: the gateway checks each token and its revocation.
const key = queueTokenKey(stack.names.secret)
const now = Math.floor(Date.now() / 1000)
const fans = await Promise.all(
  Array.from({ length: FANS }, async (_, i) => ({
    authorization: `Bearer ${await signUserToken({ secret: stack.names.secret, userId: `reader-${i}` })}`,
    'x-queue-token': await signQueueToken(key, { userId: `reader-${i}`, concertId, status: 'ACTIVE', seq: i + 1, issuedAt: now, expiresAt: now + 3_600 }),
    'x-forwarded-for': `10.9.${(i >> 8) & 255}.${i & 255}`,
  })),
)
const body = await (await fetch(stack.gateway + path, { headers: fans[0] })).text()
const hello = Fastify()
hello.get('/seats', async (_request, reply) => reply.type('application/json').send(body))
const helloUrl = await hello.listen({ port: 0, host: '127.0.0.1' })
const helloProcess = { hello: process.pid }

function cannon(url, requests, duration = DURATION_S) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, duration, connections: CONNECTIONS, requests }, (err, r) => (err ? reject(err) : resolve(r)))
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false })
  })
}
const readers = () => {
  let next = 0
  return [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, ...fans[next++ % FANS] } }) }]
}

const rows = []
async function measured(name, url, requests, meter) {
  const before = meter()
  const r = await cannon(url, requests)
  const ok = r.requests.total - r.non2xx
  const { row, total } = cpuPerRequest(before, meter(), ok)
  rows.push({ run: name, 'req/s': Math.round(ok / r.duration), 'p50 ms': r.latency.p50, 'p99 ms': r.latency.p99, 'non-2xx': r.non2xx, 'server µs/req': total, ...row })
}

await cannon(`${helloUrl}/seats`, undefined, 2)
await cannon(stack.gateway + path, readers(), 2)
// The hello-world runs in this process, beside autocannon: its CPU is not separable, so it has none.
await measured('baseline: cached hello-world, same JSON', `${helloUrl}/seats`, undefined, () => ({}))
await measured('npm start: seat map through the gateway', stack.gateway + path, readers(), stack.cpu)
await measured('baseline again', `${helloUrl}/seats`, undefined, () => ({}))
void helloProcess

console.log(`seat-map reads, ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}`)
console.log(
  `GET ${path.replace(concertId, ':concertId').replace(schedules[0].scheduleId, ':scheduleId')} (${body.length} bytes); npm start with TRUSTED_PROXIES=127.0.0.0/8; autocannon ${CONNECTIONS} connections, ${DURATION_S} s per run, on the same cores`,
)
console.table(rows)
await hello.close()
await stack.stop()
process.exit(0)
