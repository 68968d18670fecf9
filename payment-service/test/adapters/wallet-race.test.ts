import { randomUUID } from 'node:crypto'
import { anEnvelope, SUBJECTS } from '@tickets/contracts/events'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createMariadbPaymentStore } from '../../src/adapters/mariadb-payment-store.js'
import { createMariadbWalletStore } from '../../src/adapters/mariadb-wallet-store.js'
import { buildTestApp } from '../helpers/build-test-app.js'
import { ledgerSum } from '../helpers/payments.js'

const { app } = await buildTestApp(import.meta.url, { MYSQL_POOL_SIZE: '12' })
const wallets = createMariadbWalletStore(app.pool)
const payments = createMariadbPaymentStore(app.pool)
const MAX = 1_000_000

type Op =
  { kind: 'charge'; amount: number; ref: number; delay: number } | { kind: 'pay'; amount: number; id: number; delay: number } | { kind: 'refund'; of: number; delay: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('charge' as const), amount: fc.integer({ min: 1, max: 5_000 }), ref: fc.integer({ min: 0, max: 7 }), delay: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('pay' as const), amount: fc.integer({ min: 1, max: 6_000 }), id: fc.integer({ min: 0, max: 9 }), delay: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('refund' as const), of: fc.integer({ min: 0, max: 9 }), delay: fc.integer({ min: 0, max: 4 }) }),
)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('one wallet under racing charges, payments and refunds (fast-check, random interleavings)', () => {
  it('when they race in any order, then the balance is charges - payments + refunds, equals its ledger, never below 0', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
        const userId = `race-${randomUUID().slice(0, 8)}`
        const paymentIds = Array.from({ length: 10 }, () => randomUUID())
        let charged = 0
        let paid = 0
        let refunded = 0
        let lowest = 0
        let watching = true
        // Reads the balance over and over while the operations run: it must never be seen below zero.
        const watcher = (async () => {
          while (watching) {
            lowest = Math.min(lowest, await wallets.balanceOf(userId))
            await sleep(1)
          }
        })()
        await Promise.all(
          ops.map(async (op) => {
            await sleep(op.delay)
            if (op.kind === 'charge') {
              // Equal refs stand for a retried request: it must credit once.
              const r = await wallets.chargePoints({ userId, amount: op.amount, reference: `${userId}:${op.ref}:${op.amount}`, maxBalance: MAX })
              expect(r.ok).toBe(true)
            } else if (op.kind === 'pay') {
              const paymentId = paymentIds[op.id]!
              const r = await payments.completePayment({
                payment: { paymentId, reservationId: `${userId}-r${op.id}`, userId, concertId: 'c', amount: op.amount },
                event: anEnvelope(SUBJECTS.PAYMENT_COMPLETED, { paymentId, reservationId: `${userId}-r${op.id}`, userId, concertId: 'c', amount: op.amount }),
              })
              if (r.ok && r.created) paid += op.amount
            } else {
              const paymentId = paymentIds[op.of]!
              const r = await payments.refundPayment({
                paymentId,
                reason: 'test',
                event: (p) => anEnvelope(SUBJECTS.PAYMENT_REFUNDED, { paymentId, reservationId: p.reservationId, userId, amount: p.amount, reason: 'test' }),
              })
              if (r.outcome === 'REFUNDED') refunded += r.payment!.amount
            }
          }),
        )
        watching = false
        await watcher
        const [sum] = await app.pool.query<{ total: string | null }[]>("SELECT CAST(SUM(amount) AS CHAR) AS total FROM ledger_entries WHERE user_id = ? AND kind = 'CHARGE'", [
          userId,
        ])
        charged = Number(sum?.total ?? 0)
        const distinctCharges = new Map(ops.filter((o) => o.kind === 'charge').map((o) => [`${o.ref}:${o.amount}`, o.amount]))
        expect(charged).toBe([...distinctCharges.values()].reduce((a, b) => a + b, 0))
        const balance = await wallets.balanceOf(userId)
        expect(balance).toBe(charged - paid + refunded)
        expect(balance).toBeGreaterThanOrEqual(0)
        expect(lowest).toBeGreaterThanOrEqual(0)
        expect(await ledgerSum(app, userId)).toBe(balance)
        const [stats] = await app.pool.query<{ n: bigint; refunds: bigint }[]>(
          "SELECT COUNT(*) AS n, (SELECT COUNT(*) FROM ledger_entries WHERE user_id = ? AND kind = 'REFUND') AS refunds FROM payments WHERE user_id = ? AND status = 'REFUNDED'",
          [userId, userId],
        )
        expect(Number(stats!.refunds)).toBe(Number(stats!.n))
      }),
      { numRuns: 25 },
    )
  }, 90_000)
})
