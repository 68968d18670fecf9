#!/usr/bin/env node
// Hold throughput on distinct seats: the booking service end to end (HTTP -> route -> the hold
// transaction with its quota check and outbox row) against the bare conditional UPDATE that decides
// the winner, run straight through the mariadb driver with the same pool size, in the same run.
// Not a test: it prints figures. Uses the local MariaDB/Redis/NATS under its own names and cleans up.
//   npm run bench:hold [-- --holds 4000 --concurrency 32 --pool 10]
// DATETIME columns are UTC everywhere (see scripts/start.mjs); the driver converts in local time.
process.env.TZ = 'UTC'
import { randomBytes } from 'node:crypto'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { buildApp } from '@tickets/booking-service/app'
import { ConfigSchema } from '@tickets/booking-service/config'
import { migrate } from '@tickets/booking-service/ops'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'

const { values } = parseArgs({
  options: {
    holds: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '32' },
    pool: { type: 'string', default: '10' },
  },
})
const HOLDS = Number(values.holds)
const CONCURRENCY = Number(values.concurrency)
const POOL = Number(values.pool)
const SEATS_PER_SCHEDULE = 50
const base = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'
const tag = `bench_hold_${randomBytes(3).toString('hex')}`
const url = new URL(base)
url.pathname = `/${tag}`
const dbUrl = url.toString()

async function seed(pool, prefix, schedules) {
  const concertId = `${prefix}-concert`
  await pool.query('INSERT INTO concerts (id, title, artist, venue) VALUES (?, ?, ?, ?)', [concertId, 'Bench', 'Bench', 'Bench'])
  const ids = []
  for (let s = 0; s < schedules; s++) {
    const id = `${prefix}-s${s}`
    ids.push(id)
    await pool.query('INSERT INTO schedules (id, concert_id, starts_at, booking_opens_at, total_seats) VALUES (?, ?, ?, ?, ?)', [id, concertId, new Date(Date.now() + 86_400_000), new Date(Date.now() - 3_600_000), SEATS_PER_SCHEDULE])
    await pool.batch('INSERT INTO seats (schedule_id, seat_number, grade, price) VALUES (?, ?, ?, ?)', Array.from({ length: SEATS_PER_SCHEDULE }, (_, n) => [id, n + 1, 'R', 132_000]))
  }
  return ids
}

/** Runs `total` jobs with `concurrency` in flight; returns seconds and the status tally. */
async function run(total, concurrency, job) {
  let next = 0
  const tally = {}
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++
        const outcome = await job(i)
        tally[outcome] = (tally[outcome] ?? 0) + 1
      }
    }),
  )
  return { seconds: (performance.now() - started) / 1000, tally }
}

const seatOf = (scheduleIds, i) => ({ scheduleId: scheduleIds[Math.floor(i / SEATS_PER_SCHEDULE)], seatNumber: (i % SEATS_PER_SCHEDULE) + 1 })

await migrate(dbUrl)
const admin = createPool({ url: dbUrl, connectionLimit: 2, acquireTimeoutMs: 10_000 })
const warm = 200
const schedules = Math.ceil((HOLDS + warm) / SEATS_PER_SCHEDULE)
const appSchedules = await seed(admin, 'app', schedules)
const rawSchedules = await seed(admin, 'raw', schedules)
await admin.end()

const config = loadConfig(ConfigSchema, {
  MYSQL_URL: dbUrl,
  MYSQL_POOL_SIZE: String(POOL),
  REDIS_PREFIX: `${tag}:`,
  NATS_NAMESPACE: tag,
  LOG_LEVEL: 'warn',
  PORT: '0',
})
const app = await buildApp(config, { defaultMetrics: false })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
const endpoint = `http://127.0.0.1:${address.port}/api/reservations`

const viaService = async (i) => {
  const { scheduleId, seatNumber } = seatOf(appSchedules, i)
  const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': `bench${i}` }, body: JSON.stringify({ scheduleId, seatNumber }) })
  await res.arrayBuffer()
  return res.status
}

const raw = createPool({ url: dbUrl, connectionLimit: POOL, acquireTimeoutMs: 10_000 })
const viaDriver = async (i) => {
  const { scheduleId, seatNumber } = seatOf(rawSchedules, i)
  const now = new Date()
  const res = await raw.query(
    `UPDATE seats SET status = 'HELD', reservation_id = ?, hold_until = ? WHERE schedule_id = ? AND seat_number = ? AND (status = 'AVAILABLE' OR (status IN ('HELD', 'PAYING') AND hold_until <= ?))`,
    [`raw-${i}`, new Date(now.getTime() + 300_000), scheduleId, seatNumber, now],
  )
  return res.affectedRows === 1 ? 'won' : 'lost'
}

try {
  await run(warm, CONCURRENCY, (i) => viaService(HOLDS + i))
  await run(warm, CONCURRENCY, (i) => viaDriver(HOLDS + i))
  const service = await run(HOLDS, CONCURRENCY, viaService)
  const driver = await run(HOLDS, CONCURRENCY, viaDriver)
  const rate = (r) => Math.round(HOLDS / r.seconds)
  console.log(`hold throughput on distinct seats (${HOLDS} holds, ${CONCURRENCY} in flight, pool ${POOL}, ${cpus().length} cores, ${new Date().toISOString()})`)
  console.log(`  booking service over HTTP : ${rate(service)} holds/s  ${JSON.stringify(service.tally)}`)
  console.log(`  bare UPDATE via mariadb   : ${rate(driver)} updates/s  ${JSON.stringify(driver.tally)}`)
  console.log(`  service / bare UPDATE     : ${(rate(service) / rate(driver)).toFixed(2)}`)
} finally {
  await raw.end()
  await app.close()
  const { connectNats } = await import('@tickets/shared/nats')
  const bus = await connectNats({ url: config.NATS_URL, name: tag, namespace: tag })
  for (const s of ['BOOKING_EVENTS', 'PAYMENT_EVENTS', 'DEAD_LETTERS']) await bus.jsm.streams.delete(bus.names.stream(s)).catch(() => undefined)
  await bus.close()
  await dropDatabase(dbUrl)
}
