import { randomUUID } from 'node:crypto'
import { buildApp as buildBooking } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfig } from '@tickets/booking-service/config'
import { migrate as migrateBooking } from '@tickets/booking-service/ops'
import { buildApp as buildPayment } from '@tickets/payment-service/app'
import { ConfigSchema as PaymentConfig } from '@tickets/payment-service/config'
import { migrate as migratePayment } from '@tickets/payment-service/ops'
import { loadConfig } from '@tickets/shared/config'
import { createPool } from '@tickets/shared/mysql'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET, fromGateway } from '@tickets/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { crossCheck, reconcile } from '../src/actions/reconcile.js'
import { runOps } from './helpers/ops-cli.js'

const iso = isolation(import.meta.url)
const bookingUrl = mysqlUrl(iso.database('booking'))
const paymentUrl = mysqlUrl(iso.database('payment'))
await migrateBooking(bookingUrl)
await migratePayment(paymentUrl)
const shared = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent' }
const booking = await buildBooking(loadConfig(BookingConfig, { ...shared, MYSQL_URL: bookingUrl, PAYING_TTL_SECONDS: '1', SWEEP_INTERVAL_MS: '50', HOLD_LIMIT_PER_USER: '20' }), {
  defaultMetrics: false,
})
const payment = await buildPayment(loadConfig(PaymentConfig, { ...shared, MYSQL_URL: paymentUrl }), { defaultMetrics: false })
afterAll(async () => {
  await payment.close()
  await booking.close()
  await dropDatabase(bookingUrl)
  await dropDatabase(paymentUrl)
})

const env = { ...process.env, BOOKING_MYSQL_URL: bookingUrl, PAYMENT_MYSQL_URL: paymentUrl }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function inject(app: FastifyInstance, method: 'GET' | 'POST', url: string, user: string, payload?: object, key?: string) {
  return app.inject(fromGateway({ method, url, headers: { 'x-user-id': user, ...(key ? { 'idempotency-key': key } : {}) }, ...(payload ? { payload } : {}) }))
}

async function aSchedule(seats: number, price: number) {
  const concertId = randomUUID()
  const scheduleId = randomUUID()
  await booking.pool.query("INSERT INTO concerts (id, title, artist, venue) VALUES (?, 'T', 'A', 'V')", [concertId])
  await booking.pool.query('INSERT INTO schedules (id, concert_id, starts_at, booking_opens_at, total_seats) VALUES (?, ?, NOW(3) + INTERVAL 9 DAY, NOW(3) - INTERVAL 1 HOUR, ?)', [
    scheduleId,
    concertId,
    seats,
  ])
  for (let n = 1; n <= seats; n++) await booking.pool.query("INSERT INTO seats (schedule_id, seat_number, grade, price) VALUES (?, ?, 'R', ?)", [scheduleId, n, price])
  return scheduleId
}

async function hold(user: string, scheduleId: string, seat: number): Promise<string> {
  const res = await inject(booking, 'POST', '/api/reservations', user, { scheduleId, seatNumber: seat })
  expect(res.statusCode).toBe(201)
  return res.json().reservationId
}

async function status(reservationId: string) {
  const [row] = await booking.pool.query<{ status: string }[]>('SELECT status FROM reservations WHERE id = ?', [reservationId])
  return row?.status
}

const runCli = (...args: string[]) => runOps(['reconcile', ...args], env)

describe('npm run ops -- reconcile', () => {
  it('when payments succeeded, raced, failed for points and were refunded after a late confirmation, then reconcile passes', async () => {
    const scheduleId = await aSchedule(6, 20_000)
    for (const u of ['r1', 'r2', 'r3']) expect((await inject(payment, 'POST', '/api/points/charge', u, { amount: 50_000 }, 'topup')).statusCode).toBe(200)
    const a = await hold('r1', scheduleId, 1)
    expect((await inject(payment, 'POST', '/api/payments', 'r1', { reservationId: a }, 'p1')).statusCode).toBe(201)
    const b = await hold('r2', scheduleId, 2)
    const race = await Promise.all(Array.from({ length: 10 }, (_, i) => inject(payment, 'POST', '/api/payments', 'r2', { reservationId: b }, `race-${i}`)))
    expect(race.filter((r) => r.statusCode === 201)).toHaveLength(1)
    const c = await hold('r3', scheduleId, 3)
    await hold('r3', scheduleId, 4)
    expect((await inject(payment, 'POST', '/api/points/charge', 'poor', { amount: 1 }, 'topup')).statusCode).toBe(200)
    const d = await hold('poor', scheduleId, 5)
    expect((await inject(payment, 'POST', '/api/payments', 'poor', { reservationId: d }, 'p')).statusCode).toBe(409)

    // A payment whose transaction outlives its PAYING deadline: refunded when confirmation is refused.
    const blocker = await payment.pool.getConnection()
    await blocker.beginTransaction()
    await blocker.query("SELECT balance FROM wallets WHERE user_id = 'r3' FOR UPDATE")
    const late = inject(payment, 'POST', '/api/payments', 'r3', { reservationId: c }, 'late')
    for (let i = 0; i < 100 && (await status(c)) !== 'EXPIRED'; i++) await sleep(50)
    await hold('rival', scheduleId, 3)
    await blocker.commit()
    await blocker.release()
    expect((await late).statusCode).toBe(409)

    await sleep(800)
    const result = await reconcile({ bookingUrl, paymentUrl })
    expect(result.violations).toEqual([])
    expect(result.checked.payments).toBe(3)
    const cliRun = await runCli()
    expect(cliRun.code).toBe(0)
    expect(cliRun.out).toContain('reconcile: OK')
  }, 30_000)

  it('when violations are planted, then it exits non-zero naming each one', async () => {
    // Nothing runs any more (sweeper, relays, consumers) that could repair what is planted.
    await Promise.all([booking.close(), payment.close()])
    const bookingDb = createPool({ url: bookingUrl, connectionLimit: 1, acquireTimeoutMs: 5_000 })
    const paymentDb = createPool({ url: paymentUrl, connectionLimit: 1, acquireTimeoutMs: 5_000 })
    afterAll(() => Promise.all([bookingDb.end(), paymentDb.end()]))
    const scheduleId = randomUUID()
    const [paid] = await paymentDb.query<{ id: string; reservation_id: string }[]>("SELECT id, reservation_id FROM payments WHERE status = 'COMPLETED' AND user_id = 'r1'")
    const [refunded] = await paymentDb.query<{ reservation_id: string }[]>("SELECT reservation_id FROM payments WHERE status = 'REFUNDED'")
    await paymentDb.query("UPDATE wallets SET balance = balance + 1 WHERE user_id = 'r2'")
    await paymentDb.query("INSERT INTO outbox_events (id, subject, payload, created_at) VALUES ('stale-1', 'payment.payment.completed', '{}', NOW(3) - INTERVAL 5 MINUTE)")
    await bookingDb.query("UPDATE reservations SET status = 'CONFIRMED' WHERE id = ?", [refunded!.reservation_id])
    await bookingDb.query(
      "INSERT INTO reservations (id, user_id, concert_id, schedule_id, seat_number, price, status, expires_at) VALUES ('overdue-1', 'x', 'c', ?, 1, 10, 'HELD', NOW(3) - INTERVAL 1 HOUR)",
      [scheduleId],
    )
    await bookingDb.query("UPDATE reservations SET status = 'EXPIRED' WHERE id = ?", [paid!.reservation_id])
    await paymentDb.query('UPDATE payments SET created_at = NOW(3) - INTERVAL 1 HOUR WHERE id = ?', [paid!.id])

    const { violations } = await reconcile({ bookingUrl, paymentUrl })
    const expected = [
      'wallet r2: balance',
      'payment outbox event stale-1',
      `reservation ${refunded!.reservation_id} is CONFIRMED with 0 completed payments`,
      'reservation overdue-1 still HELD past its deadline',
      `payment ${paid!.id} charged 20000 for reservation ${paid!.reservation_id} which is EXPIRED`,
    ]
    for (const e of expected) expect(violations.some((v) => v.includes(e))).toBe(true)
    expect(violations).toHaveLength(expected.length)
    const cliRun = await runCli()
    expect(cliRun.code).toBe(1)
    for (const e of expected) expect(cliRun.out).toContain(e)
  })
})

describe('crossCheck', () => {
  const r = (over: object) => ({ reservationId: 'r', userId: 'u', status: 'CONFIRMED', price: 100, paymentId: 'p', ...over })
  const p = (over: object) => ({ paymentId: 'p', reservationId: 'r', userId: 'u', amount: 100, status: 'COMPLETED', ageSeconds: 1, ...over })

  it('when the payment charged another amount or user, then each is named', () => {
    expect(crossCheck([r({})], [p({ amount: 90, userId: 'v' })], 300)).toEqual([
      'reservation r costs 100 but payment p charged 90',
      'reservation r belongs to user u but payment p charged user v',
    ])
  })

  it('when a completed payment waits for confirmation within the window, then it is not yet a violation', () => {
    expect(crossCheck([r({ status: 'PAYING' })], [p({ ageSeconds: 10 })], 300)).toEqual([])
    expect(crossCheck([r({ status: 'PAYING' })], [p({ ageSeconds: 400 })], 300)).toHaveLength(1)
  })
})
