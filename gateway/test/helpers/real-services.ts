import { buildApp as buildBookingApp } from '@tickets/booking-service/app'
import { ConfigSchema as BookingConfigSchema } from '@tickets/booking-service/config'
import { migrate as migrateBooking, seedDemoCatalogue } from '@tickets/booking-service/ops'
import { buildApp as buildPaymentApp } from '@tickets/payment-service/app'
import { ConfigSchema as PaymentConfigSchema } from '@tickets/payment-service/config'
import { migrate as migratePayment, seedDemoWallets } from '@tickets/payment-service/ops'
import { buildApp as buildQueueApp } from '@tickets/queue-service/app'
import { ConfigSchema as QueueConfigSchema } from '@tickets/queue-service/config'
import { loadConfig } from '@tickets/shared/config'
import { dropDatabase } from '@tickets/shared/migrate'
import { isolation, mysqlUrl, TEST_INTERNAL_SECRET } from '@tickets/testkit'
import { afterAll } from 'vitest'
import { TEST_SECRET } from './build-test-app.js'

/**
 * The real booking and payment services (as their own test helpers build them: migrated, seeded
 * databases of this file's own, own Redis prefix and NATS namespace), listening on ephemeral ports.
 */
export async function realServices(fileUrl: string) {
  const iso = isolation(fileUrl)
  const bookingDb = mysqlUrl(iso.database('booking'))
  const paymentDb = mysqlUrl(iso.database('payment'))
  await Promise.all([migrateBooking(bookingDb), migratePayment(paymentDb)])
  await Promise.all([seedDemoCatalogue(bookingDb, { seatsPerSchedule: 10 }), seedDemoWallets(paymentDb, { users: 3 })])
  const env = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_SECRET }
  const booking = await buildBookingApp(loadConfig(BookingConfigSchema, { ...env, MYSQL_URL: bookingDb }), { defaultMetrics: false })
  const payment = await buildPaymentApp(loadConfig(PaymentConfigSchema, { ...env, MYSQL_URL: paymentDb }), { defaultMetrics: false })
  const bookingUrl = await booking.listen({ port: 0, host: '127.0.0.1' })
  const paymentUrl = await payment.listen({ port: 0, host: '127.0.0.1' })
  afterAll(async () => {
    await Promise.all([booking.close(), payment.close()])
    await Promise.all([dropDatabase(bookingDb), dropDatabase(paymentDb)])
  })
  return { bookingUrl, paymentUrl, booking, payment }
}

/**
 * The real booking and queue services behind one line (this file's own database, Redis prefix and
 * NATS namespace), listening on ephemeral ports: `queueEnv` tunes the queue, `queueOptions` its
 * background work. Closed, and the database dropped, after the file's tests.
 */
export async function realLine(fileUrl: string, queueEnv: Record<string, string>, queueOptions: { admissionLoop?: boolean } = {}) {
  const iso = isolation(fileUrl)
  const bookingDb = mysqlUrl(iso.database('booking'))
  await migrateBooking(bookingDb)
  const env = { INTERNAL_SECRET: TEST_INTERNAL_SECRET, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, LOG_LEVEL: 'silent', AUTH_JWT_SECRET: TEST_SECRET }
  const booking = await buildBookingApp(loadConfig(BookingConfigSchema, { ...env, MYSQL_URL: bookingDb }), { defaultMetrics: false })
  const queue = await buildQueueApp(loadConfig(QueueConfigSchema, { ...env, ...queueEnv }), { defaultMetrics: false, ...queueOptions })
  const bookingUrl = await booking.listen({ port: 0, host: '127.0.0.1' })
  const queueUrl = await queue.listen({ port: 0, host: '127.0.0.1' })
  afterAll(async () => {
    await Promise.all([queue.close(), booking.close()])
    await dropDatabase(bookingDb)
  })
  return { iso, bookingDb, bookingUrl, queueUrl, booking, queue }
}
