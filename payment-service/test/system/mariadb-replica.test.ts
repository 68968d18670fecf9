// Booking and payment on a MariaDB primary with one replica (GTID replication): migrations taken by
// racing migrators through the lock row, and a payment, all reach the replica, which is what a
// failover to it would keep.
import { buildApp as buildBookingApp } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfigSchema } from '@tickets/booking-service/config'
import { migrate as migrateBooking } from '@tickets/booking-service/ops'
import { loadConfig } from '@tickets/shared/config'
import { isolation, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { startMariadbReplication } from '@tickets/testkit/clusters'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'
import { migrate } from '../../src/ops.js'
import { charge, pay, waitFor } from '../helpers/payments.js'
import { aConcert, aHold, reservationStatus } from '../helpers/with-booking.js'

const servers = await startMariadbReplication()
afterAll(() => servers.dispose())
const iso = isolation(import.meta.url)
const bookingDb = `${servers.primary.url}/tickets_booking`
const paymentDb = `${servers.primary.url}/tickets_payment`

describe('booking and payment on a primary with a replica', () => {
  it('when two migrators race for each database, then each migration applies once and the replica matches', async () => {
    const results = await Promise.all([migrate(paymentDb), migrate(paymentDb), migrateBooking(bookingDb), migrateBooking(bookingDb)])
    for (const pair of [results.slice(0, 2), results.slice(2)]) {
      const [did, waited] = pair.sort((x, y) => y.applied.length - x.applied.length)
      expect(did!.applied.length).toBeGreaterThan(0)
      expect(waited).toEqual({ applied: [], alreadyApplied: did!.applied })
    }
    await servers.caughtUp()
    for (const db of ['tickets_booking', 'tickets_payment']) {
      const recorded = `SELECT migration_name, checksum FROM ${db}._prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name`
      expect(await servers.replica.sql(recorded)).toBe(await servers.primary.sql(recorded))
      expect(await servers.replica.sql(`SELECT COUNT(*) FROM ${db}._migration_lock`)).toBe('0\n')
      const tables = `SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}'`
      expect(await servers.replica.sql(tables)).toBe(await servers.primary.sql(tables))
    }
  })

  it('when a fan charges points and pays for a hold, then payment, ledger, seat and events are all on the replica', async () => {
    const env = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent' }
    const booking = await buildBookingApp(loadConfig(BookingConfigSchema, { ...env, MYSQL_URL: bookingDb }), { defaultMetrics: false })
    const payment = await buildApp(loadConfig(ConfigSchema, { ...env, MYSQL_URL: paymentDb }), { defaultMetrics: false })
    try {
      const { scheduleId } = await aConcert(booking, { seats: 2, price: 1_000 })
      expect((await charge(payment, 'fan', 5_000, 'charge-1')).statusCode).toBe(200)
      const { reservationId } = await aHold(booking, 'fan', scheduleId, 1)
      const paid = await pay(payment, 'fan', reservationId, 'pay-1')
      expect(paid.statusCode, paid.body).toBe(201)
      await waitFor('the reservation confirmed', async () => (await reservationStatus(booking, reservationId)) === 'CONFIRMED')
      const unpublished = (db: string) => `SELECT COUNT(*) FROM ${db}.outbox_events WHERE published_at IS NULL`
      await waitFor('every event published', async () => (await servers.primary.sql(`${unpublished('tickets_booking')}; ${unpublished('tickets_payment')}`)) === '0\n0\n')

      await servers.caughtUp()
      const onReplica = (sql: string) => servers.replica.sql(sql).then((out) => out.trim())
      expect(await onReplica(`SELECT status FROM tickets_payment.payments WHERE reservation_id = '${reservationId}'`)).toBe('COMPLETED')
      expect(await onReplica("SELECT CAST(SUM(amount) AS CHAR) FROM tickets_payment.ledger_entries WHERE user_id = 'fan'")).toBe('4000')
      expect(await onReplica(`SELECT status FROM tickets_booking.reservations WHERE id = '${reservationId}'`)).toBe('CONFIRMED')
      expect(await onReplica(`${unpublished('tickets_booking')}; ${unpublished('tickets_payment')}`)).toBe('0\n0')
    } finally {
      await payment.close()
      await booking.close()
    }
  })
})
