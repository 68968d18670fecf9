import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp as buildBooking } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfig } from '@tickets/booking-service/config'
import { migrate as migrateBooking } from '@tickets/booking-service/ops'
import { buildApp as buildPayment } from '@tickets/payment-service/app'
import { ConfigSchema as PaymentConfig } from '@tickets/payment-service/config'
import { migrate as migratePayment } from '@tickets/payment-service/ops'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET, fromGateway } from '@tickets/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll, describe, expect, it } from 'vitest'
import { reconcile } from '../src/actions/reconcile.js'
import { runOps } from './helpers/ops-cli.js'

const iso = isolation(import.meta.url)
const bookingUrl = mysqlUrl(iso.database('booking'))
const paymentUrl = mysqlUrl(iso.database('payment'))
const backups = await mkdtemp(join(tmpdir(), 'tickets-backup-test-'))
await migrateBooking(bookingUrl)
await migratePayment(paymentUrl)
const env = { ...process.env, BOOKING_MYSQL_URL: bookingUrl, PAYMENT_MYSQL_URL: paymentUrl }
afterAll(async () => {
  await dropDatabase(bookingUrl)
  await dropDatabase(paymentUrl)
  await rm(backups, { recursive: true, force: true })
})

const ops = (...args: string[]) => runOps(args, env)

/** A paid reservation and a topped-up wallet, made through the services as a fan would. */
async function someSales() {
  const shared = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent' }
  const booking = await buildBooking(loadConfig(BookingConfig, { ...shared, MYSQL_URL: bookingUrl }), { defaultMetrics: false })
  const payment = await buildPayment(loadConfig(PaymentConfig, { ...shared, MYSQL_URL: paymentUrl }), { defaultMetrics: false })
  try {
    const call = (app: FastifyInstance, url: string, user: string, payload: object, key?: string) =>
      app.inject(fromGateway({ method: 'POST', url, headers: { 'x-user-id': user, ...(key ? { 'idempotency-key': key } : {}) }, payload }))
    const concertId = randomUUID()
    const scheduleId = randomUUID()
    await booking.pool.query("INSERT INTO concerts (id, title, artist, venue) VALUES (?, 'T', 'A', 'V')", [concertId])
    await booking.pool.query(
      'INSERT INTO schedules (id, concert_id, starts_at, booking_opens_at, total_seats) VALUES (?, ?, NOW(3) + INTERVAL 9 DAY, NOW(3) - INTERVAL 1 HOUR, 3)',
      [scheduleId, concertId],
    )
    for (let n = 1; n <= 3; n++) await booking.pool.query("INSERT INTO seats (schedule_id, seat_number, grade, price) VALUES (?, ?, 'R', 20000)", [scheduleId, n])
    for (const user of ['b1', 'b2']) expect((await call(payment, '/api/points/charge', user, { amount: 50_000 }, `topup-${user}`)).statusCode).toBe(200)
    const held = await call(booking, '/api/reservations', 'b1', { scheduleId, seatNumber: 1 })
    expect(held.statusCode).toBe(201)
    expect((await call(payment, '/api/payments', 'b1', { reservationId: held.json().reservationId }, 'pay-1')).statusCode).toBe(201)
  } finally {
    await Promise.all([booking.close(), payment.close()])
  }
}

describe('npm run ops -- backup / restore', () => {
  it('when both databases are damaged after a backup, then restore brings them back and reconcile is clean', async () => {
    await someSales()
    expect((await reconcile({ bookingUrl, paymentUrl })).violations).toEqual([])

    const made = await ops('backup', '--dir', backups)
    expect(made.code).toBe(0)
    const dir = made.stdout.trim()
    expect(dir.startsWith(backups)).toBe(true)
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({
      gitCommit: expect.stringMatching(/^[0-9a-f]{40}$/),
      databases: {
        booking: { database: iso.database('booking'), file: 'booking.sql', latestMigration: expect.stringMatching(/^\d{14}_/) },
        payment: { database: iso.database('payment'), file: 'payment.sql', latestMigration: expect.stringMatching(/^\d{14}_/) },
      },
    })
    expect(Date.parse(manifest.createdAt)).toBeGreaterThan(Date.now() - 60_000)

    const pools = () =>
      [createPool({ url: bookingUrl, connectionLimit: 1, acquireTimeoutMs: 5_000 }), createPool({ url: paymentUrl, connectionLimit: 1, acquireTimeoutMs: 5_000 })] as const
    const [bookingDb, paymentDb] = pools()
    const [before] = await paymentDb.query<{ balance: number }[]>("SELECT balance FROM wallets WHERE user_id = 'b1'")
    await paymentDb.query("UPDATE wallets SET balance = balance + 777 WHERE user_id = 'b2'")
    await paymentDb.query("DELETE FROM payments WHERE user_id = 'b1'")
    await bookingDb.query('DELETE FROM seats WHERE seat_number = 3')
    await Promise.all([bookingDb.end(), paymentDb.end()])
    expect((await reconcile({ bookingUrl, paymentUrl })).violations.length).toBeGreaterThanOrEqual(2)

    const restored = await ops('restore', dir)
    expect(restored.out).toContain('reconcile: OK')
    expect(restored.code).toBe(0)
    const [bookingAfter, paymentAfter] = pools()
    try {
      const [after] = await paymentAfter.query<{ balance: number }[]>("SELECT balance FROM wallets WHERE user_id = 'b1'")
      expect(after).toEqual(before)
      expect(await paymentAfter.query("SELECT id FROM payments WHERE user_id = 'b1' AND status = 'COMPLETED'")).toHaveLength(1)
      expect(await bookingAfter.query('SELECT seat_number FROM seats')).toHaveLength(3)
      expect((await reconcile({ bookingUrl, paymentUrl })).violations).toEqual([])
    } finally {
      await Promise.all([bookingAfter.end(), paymentAfter.end()])
    }
  })

  it('when the directory has no manifest, or a flag is unknown, then it exits 2 saying why and changes nothing', async () => {
    const notABackup = await mkdtemp(join(backups, 'not-a-backup-'))
    await writeFile(join(notABackup, 'booking.sql'), 'DROP TABLE seats;')
    const refused = await ops('restore', notABackup)
    expect(refused.code).toBe(2)
    expect(refused.out).toContain(`${notABackup} is not a backup: it has no manifest.json`)
    expect((await reconcile({ bookingUrl, paymentUrl })).checked.payments).toBe(1)

    const unknown = await ops('backup', '--to', backups)
    expect(unknown.code).toBe(2)
    expect(unknown.out).toMatch(/Unknown option '--to'/)
    expect((await ops('restore')).code).toBe(2)
    expect(existsSync(join(backups, 'manifest.json'))).toBe(false)
  })
})
