#!/usr/bin/env node
// `node loadtest/bench/runner-client.mjs`: what the load runner's HTTP client costs per request,
// undici's request(url) through an Agent against one Pool asked by path (what the runner uses),
// against a local server answering a poll-sized JSON. Client and server share this process, so the
// CPU per request includes both: compare the rows, not the absolute figures. Prints figures.
import http from 'node:http'
import { cpus } from 'node:os'
import { Agent, Pool, request } from 'undici'

const N = 20_000
const CONCURRENCY = 64
const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end('{"status":"WAITING","position":5,"estimatedWaitSeconds":12}')
  })
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const base = `http://127.0.0.1:${server.address().port}`
const headers = { authorization: 'Bearer header.payload.signature', 'x-forwarded-for': '10.0.0.1', 'x-queue-token': 'q'.repeat(200) }

async function run(name, one) {
  for (let i = 0; i < 2_000; i++) await one()
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < N) await one()
    }),
  )
  const cpu = process.cpuUsage(cpu0)
  return { client: name, 'CPU µs per request (client and server)': Math.round((cpu.user + cpu.system) / N), 'req/s': Math.round((N / (performance.now() - wall0)) * 1000) }
}

const agent = new Agent({ connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 })
const pool = new Pool(base, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 })
const viaAgent = async () => JSON.parse(await (await request(`${base}/api/queue/token`, { method: 'GET', dispatcher: agent, headers })).body.text())
const viaPool = async () => JSON.parse(await (await pool.request({ path: '/api/queue/token', method: 'GET', headers })).body.text())
const rows = []
for (let round = 0; round < 2; round++) rows.push(await run('request(url) through an Agent', viaAgent), await run('Pool.request({ path }) (the runner)', viaPool))
console.log(
  `runner HTTP client, ${new Date().toISOString()}, ${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}, ${N} requests x ${CONCURRENCY} at once per row`,
)
console.table(rows)
await Promise.all([agent.close(), pool.close()])
server.close()
