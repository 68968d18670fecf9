#!/usr/bin/env node
// `npm run bench:hold [-- --holds 4000 --concurrency 32]`: holds on distinct seats through the system
// as `npm start` runs it (gateway: auth, queue-token check, per-user limit; booking: the hold
// transaction with its quota check and outbox row; the events on to NATS and the waiting room),
// against the bare conditional UPDATE that decides the winner, run straight through the mariadb
// driver with booking's pool size, in the same run, with the server CPU per successful hold of every
// process. A benchmark, not a test: it prints figures.
process.env.TZ = 'UTC'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { createConcert } from '@tickets/booking-service/ops'
import { signUserToken } from '@tickets/contracts/auth'
import { createPool } from '@tickets/shared/mysql'
import { queueTokenKey, signQueueToken } from '@tickets/contracts/queue-token'
import { cpuPerRequest, startStack } from './stack.mjs'

const { values } = parseArgs({ options: { holds: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '32' } } })
const HOLDS = Number(values.holds)
const CONCURRENCY = Number(values.concurrency)
const SEATS = 50
const WARM = 200

/** Runs `total` jobs with `concurrency` in flight; returns seconds and the status tally. */
async function run(total, concurrency, job) {
  let next = 0
  const tally = {}
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const outcome = await job(next++)
        tally[outcome] = (tally[outcome] ?? 0) + 1
      }
    }),
  )
  return { seconds: (performance.now() - started) / 1000, tally }
}

const stack = await startStack()
const dates = Math.ceil((HOLDS + WARM) / SEATS)
const viaGateway = await createConcert(stack.names.bookingDb, { title: 'Hold bench', dates, seatsPerSchedule: SEATS })
const viaDriverConcert = await createConcert(stack.names.bookingDb, { title: 'Hold bench, bare UPDATE', dates, seatsPerSchedule: SEATS })
const seatOf = (scheduleIds, i) => ({ scheduleId: scheduleIds[Math.floor(i / SEATS)], seatNumber: (i % SEATS) + 1 })

// One admitted fan per hold, as the waiting room would have signed them.
const key = queueTokenKey(stack.names.secret)
const now = Math.floor(Date.now() / 1000)
const headers = await Promise.all(
  Array.from({ length: HOLDS + WARM }, async (_, i) => ({
    'content-type': 'application/json',
    authorization: `Bearer ${await signUserToken({ secret: stack.names.secret, userId: `holder-${i}` })}`,
    'x-queue-token': await signQueueToken(key, { userId: `holder-${i}`, concertId: viaGateway.concertId, status: 'ACTIVE', seq: i + 1, issuedAt: now, expiresAt: now + 3_600 }),
    'x-forwarded-for': `10.8.${(i >> 8) & 255}.${i & 255}`,
  })),
)
const hold = async (i) => {
  const res = await fetch(`${stack.gateway}/api/reservations`, { method: 'POST', headers: headers[i], body: JSON.stringify(seatOf(viaGateway.scheduleIds, i)) })
  await res.arrayBuffer()
  return res.status
}
const raw = createPool({ url: stack.names.bookingDb, connectionLimit: 10, acquireTimeoutMs: 10_000 })
const update = async (i) => {
  const { scheduleId, seatNumber } = seatOf(viaDriverConcert.scheduleIds, i)
  const at = new Date()
  const res = await raw.query(
    `UPDATE seats SET status = 'HELD', reservation_id = ?, hold_until = ? WHERE schedule_id = ? AND seat_number = ? AND (status = 'AVAILABLE' OR (status IN ('HELD', 'PAYING') AND hold_until <= ?))`,
    [`raw-${i}`, new Date(at.getTime() + 300_000), scheduleId, seatNumber, at],
  )
  return res.affectedRows === 1 ? 'won' : 'lost'
}

try {
  await run(WARM, CONCURRENCY, (i) => hold(HOLDS + i))
  await run(WARM, CONCURRENCY, (i) => update(HOLDS + i))
  const before = stack.cpu()
  const service = await run(HOLDS, CONCURRENCY, hold)
  const cpu = cpuPerRequest(before, stack.cpu(), service.tally['201'] ?? 0)
  const driver = await run(HOLDS, CONCURRENCY, update)
  const rate = (r) => Math.round(HOLDS / r.seconds)
  console.log(`hold throughput on distinct seats (${HOLDS} holds, ${CONCURRENCY} in flight, ${cpus().length} x ${cpus()[0]?.model.trim()}, ${new Date().toISOString()})`)
  console.log(`  npm start, through the gateway : ${rate(service)} holds/s  ${JSON.stringify(service.tally)}`)
  console.log(`  bare UPDATE via mariadb (pool 10) : ${rate(driver)} updates/s  ${JSON.stringify(driver.tally)}`)
  console.log(`  ratio                           : ${(rate(service) / rate(driver)).toFixed(2)}`)
  console.log(`  server CPU per successful hold  : ${cpu.total} µs  ${JSON.stringify(cpu.row)}`)
} finally {
  await raw.end()
  await stack.stop()
}
process.exit(0)
