import { duplicateKeyName, isDuplicateKey } from '@tickets/shared/db-errors'
import type { Envelope, SubjectName } from '@tickets/contracts/events'
import { insertOutboxEvents } from '@tickets/shared/outbox'
import { markProcessed } from '@tickets/shared/processed-events'
import { Rollback, withTransaction } from '@tickets/shared/transaction'
import type { Pool, PoolConnection } from 'mariadb'
import { uuidv7 } from 'uuidv7'
import type { CompletePaymentResult, Confirmation, Payment, PaymentStore, RefundResult } from '../domain/ports.js'

interface PaymentRow {
  id: string
  reservation_id: string
  user_id: string
  concert_id: string
  amount: bigint
  status: Payment['status']
  confirmation: Confirmation
  created_at: Date
  refunded_at: Date | null
  refund_reason: string | null
  standing_reservation_id?: string | null
}

interface Affected {
  affectedRows: number
}

const COLUMNS = 'id, reservation_id, user_id, concert_id, amount, status, confirmation, created_at, refunded_at, refund_reason'

function toPayment(r: PaymentRow): Payment {
  return {
    paymentId: r.id,
    reservationId: r.reservation_id,
    userId: r.user_id,
    concertId: r.concert_id,
    amount: Number(r.amount),
    status: r.status,
    confirmation: r.confirmation,
    createdAt: r.created_at,
    refundedAt: r.refunded_at,
    refundReason: r.refund_reason,
  }
}

async function one(conn: Pool | PoolConnection, where: string, value: string, lock = ''): Promise<Payment | null> {
  const rows = await conn.query<PaymentRow[]>(`SELECT ${COLUMNS} FROM payments WHERE ${where} = ? ${lock}`, [value])
  return rows[0] ? toPayment(rows[0]) : null
}

/** Payment's events are published on the subject named by their type. */
const insertOutbox = (conn: PoolConnection, event: Envelope) => insertOutboxEvents(conn, [{ subject: event.type as SubjectName, event }])

export function createMariadbPaymentStore(pool: Pool): PaymentStore {
  return {
    findPayment: (paymentId) => one(pool, 'id', paymentId),
    async findEarlierAndStanding(paymentId, reservationId) {
      const rows = await pool.query<PaymentRow[]>(`SELECT ${COLUMNS}, standing_reservation_id FROM payments WHERE id = ? OR standing_reservation_id = ?`, [
        paymentId,
        reservationId,
      ])
      const earlier = rows.find((r) => r.id === paymentId)
      const standing = rows.find((r) => r.standing_reservation_id === reservationId)
      return { earlier: earlier ? toPayment(earlier) : null, standing: standing ? toPayment(standing) : null }
    },

    async completePayment({ payment: p, event }): Promise<CompletePaymentResult> {
      const outcome = await withTransaction<Payment | 'EXISTS' | 'ALREADY_PAID' | 'INSUFFICIENT_POINTS'>(pool, async (conn) => {
        // Every statement leaves in one round trip with the transaction's start (the connection
        // pipelines them in this order); what they found decides between COMMIT and ROLLBACK. A
        // failed insert or debit leaves the statements behind it to be rolled back with it. Sent one
        // after another, they cost three more round trips, each with the wallet row locked.
        const settled = await Promise.allSettled([
          conn.query(
            "INSERT INTO payments (id, reservation_id, standing_reservation_id, user_id, concert_id, amount, status, confirmation) VALUES (?, ?, ?, ?, ?, ?, 'COMPLETED', 'PENDING')",
            [p.paymentId, p.reservationId, p.reservationId, p.userId, p.concertId, p.amount],
          ),
          conn.query<Affected>('UPDATE wallets SET balance = balance - ?, updated_at = NOW(3) WHERE user_id = ? AND balance >= ?', [p.amount, p.userId, p.amount]),
          conn.query("INSERT INTO ledger_entries (id, user_id, kind, amount, reference) VALUES (?, ?, 'PAYMENT', ?, ?)", [uuidv7(), p.userId, -p.amount, p.paymentId]),
          insertOutbox(conn, event),
          one(conn, 'id', p.paymentId),
        ])
        const [inserted, debited, , , payment] = settled
        // A payment already there (this one, or another for the reservation): nothing behind it counts.
        if (inserted.status === 'rejected' && isDuplicateKey(inserted.reason)) return new Rollback(duplicateKeyName(inserted.reason) === 'PRIMARY' ? 'EXISTS' : 'ALREADY_PAID')
        const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
        if (failed) throw failed.reason
        if (debited.status === 'fulfilled' && debited.value.affectedRows !== 1) return new Rollback('INSUFFICIENT_POINTS')
        return (payment as PromiseFulfilledResult<Payment | null>).value!
      })
      if (outcome === 'EXISTS') return { ok: true, payment: (await one(pool, 'id', p.paymentId))!, created: false }
      if (outcome === 'ALREADY_PAID') return { ok: false, reason: 'ALREADY_PAID', standing: await one(pool, 'standing_reservation_id', p.reservationId) }
      if (outcome === 'INSUFFICIENT_POINTS') return { ok: false, reason: 'INSUFFICIENT_POINTS' }
      return { ok: true, payment: outcome, created: true }
    },

    async refundPayment({ paymentId, reason, event, processed }): Promise<RefundResult> {
      return withTransaction<RefundResult>(pool, async (conn) => {
        if (!(await markProcessed(conn, processed))) return new Rollback<RefundResult>({ outcome: 'DUPLICATE_EVENT', payment: null })
        // Locks the payment before the wallet, in the same order as completePayment.
        const payment = await one(conn, 'id', paymentId, 'FOR UPDATE')
        if (!payment) return { outcome: 'NO_SUCH_PAYMENT', payment: null }
        if (payment.status === 'REFUNDED') return { outcome: 'ALREADY_REFUNDED', payment }
        await conn.query(
          "UPDATE payments SET status = 'REFUNDED', confirmation = 'FAILED', standing_reservation_id = NULL, refund_reason = ?, refunded_at = NOW(3), updated_at = NOW(3) WHERE id = ? AND status = 'COMPLETED'",
          [reason.slice(0, 255), paymentId],
        )
        await conn.query('UPDATE wallets SET balance = balance + ?, updated_at = NOW(3) WHERE user_id = ?', [payment.amount, payment.userId])
        await conn.query("INSERT INTO ledger_entries (id, user_id, kind, amount, reference) VALUES (?, ?, 'REFUND', ?, ?)", [uuidv7(), payment.userId, payment.amount, paymentId])
        await insertOutbox(conn, event(payment))
        return { outcome: 'REFUNDED', payment: (await one(conn, 'id', paymentId))! }
      })
    },

    async markConfirmation({ paymentId, confirmation }) {
      // No transaction: the payment's own answer and booking's confirmed event both record it, and a
      // transaction with a processed-event row held one of three pooled connections for three round
      // trips per sale, a quarter of the pool's work on a slow link (drill 3.2.3).
      await pool.query("UPDATE payments SET confirmation = ?, updated_at = NOW(3) WHERE id = ? AND status = 'COMPLETED' AND confirmation <> ?", [
        confirmation,
        paymentId,
        confirmation,
      ])
    },
  }
}
