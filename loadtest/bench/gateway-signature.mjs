// npm run bench:signature — the CPU the gateway's signature costs per proxied request: signing in
// the gateway (what it asserts: user, queue concert, method, path, deadline) and checking in the
// service, each timed in one process with process.cpuUsage over many rounds. No ports, no services.
import { GATEWAY_SIGNATURE_HEADER, gatewayKey, signGatewayRequest, verifyGatewayRequest } from '@tickets/contracts/gateway-signature'
import { machine } from './lib.mjs'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const PER_ROUND = Number(process.env.PER_ROUND ?? 200_000)
const key = gatewayKey('a-bench-secret-of-at-least-thirty-two-characters')

const REQUESTS = {
  'a hold (user + queue concert)': {
    method: 'POST',
    url: '/api/reservations',
    headers: { 'x-user-id': 'fan-123456', 'x-queue-concert-id': '01936b2e-0000-7000-8000-000000000001' },
  },
  'a seat map (path with ids, user + concert)': {
    method: 'GET',
    url: '/api/concerts/01936b2e-0000-7000-8000-000000000001/schedules/01936b2e-0000-7000-8000-000000000002/seats',
    headers: { 'x-user-id': 'fan-123456', 'x-queue-concert-id': '01936b2e-0000-7000-8000-000000000001' },
  },
  'a public read with a raw { in its path (slow path)': { method: 'GET', url: '/api/concerts/{x}/schedules', headers: {} },
}

/** CPU microseconds (user + system) per call of `fn`, the median of ROUNDS rounds. */
function cpuMicros(fn) {
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.cpuUsage()
    for (let i = 0; i < PER_ROUND; i++) fn(i)
    const used = process.cpuUsage(start)
    rounds.push((used.user + used.system) / PER_ROUND)
  }
  return rounds.sort((a, b) => a - b)[Math.floor(rounds.length / 2)]
}

console.log(`\n## The gateway's signature: CPU per request\n\n${new Date().toISOString()}, ${machine()}, median of ${ROUNDS} rounds of ${PER_ROUND}\n`)
console.log('| request | sign (gateway) µs | verify (service) µs | both µs |')
console.log('| --- | ---: | ---: | ---: |')
for (const [name, request] of Object.entries(REQUESTS)) {
  const deadline = Date.now() + 60_000
  // The same work as in production, but the result must be used or the JIT may drop it.
  let sink = 0
  const sign = cpuMicros(() => {
    sink += signGatewayRequest(key, request, deadline).length
  })
  const signed = { ...request, headers: { ...request.headers, [GATEWAY_SIGNATURE_HEADER]: signGatewayRequest(key, request, deadline) } }
  const now = Date.now()
  const verify = cpuMicros(() => {
    if (verifyGatewayRequest(key, signed, now, 1_000).ok) sink++
  })
  if (sink === 0) throw new Error('nothing was signed')
  console.log(`| ${name} | ${sign.toFixed(2)} | ${verify.toFixed(2)} | ${(sign + verify).toFixed(2)} |`)
}
