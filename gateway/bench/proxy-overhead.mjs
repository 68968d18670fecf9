// Requests per second and latency: an upstream directly, then the same upstream through the gateway
// (route matching, global Redis rate limit, JWT verification, proxy). Load generator and servers
// share the machine's cores: compare the two figures of one run, not across machines.
// usage: node bench/proxy-overhead.mjs [seconds=5] [connections=50]   (after `npm run build`)
import Fastify from 'fastify'
import { Pool } from 'undici'
import { signUserToken } from '@tickets/contracts/auth'
import { startBenchGateway } from './bench-gateway.mjs'

const seconds = Number(process.argv[2] ?? 5)
const connections = Number(process.argv[3] ?? 50)
const secret = 'bench-secret-that-is-long-enough-for-hs256!'

const upstream = Fastify()
upstream.all('/*', async () => ({ ok: true }))
const upstreamUrl = await upstream.listen({ port: 0, host: '127.0.0.1' })
const { gateway, gatewayUrl } = await startBenchGateway(upstreamUrl, { AUTH_JWT_SECRET: secret })
const authorization = `Bearer ${await signUserToken({ secret, userId: '1' })}`

async function load(origin, path, headers = {}) {
  const pool = new Pool(origin, { connections })
  const latencies = []
  const statuses = {}
  const end = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t = performance.now()
        const res = await pool.request({ path, method: 'GET', headers })
        await res.body.dump()
        statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1
        latencies.push(performance.now() - t)
      }
    }),
  )
  await pool.close()
  latencies.sort((a, b) => a - b)
  const q = (p) => latencies[Math.floor(latencies.length * p)].toFixed(2)
  return `${Math.round(latencies.length / seconds)} req/s, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, statuses ${JSON.stringify(statuses)}`
}

console.log(`direct upstream          GET /api/points: ${await load(upstreamUrl, '/api/points')}`)
console.log(`gateway (public route)   GET /api/concerts: ${await load(gatewayUrl, '/api/concerts')}`)
console.log(`gateway (JWT, user route) GET /api/points: ${await load(gatewayUrl, '/api/points', { authorization })}`)
await gateway.close()
await upstream.close()
