import { fileURLToPath } from 'node:url'
import { applyMigrations } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { uuidv7 } from 'uuidv7'
import { createDbClient } from './plugins/db.js'

export const migrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url))
export const schemaPath = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url))

export function migrate(url: string) {
  return applyMigrations(url, migrationsDir)
}

/** Demo users 1..N with points: wallet and its opening CHARGE entry written together. Idempotent. */
export async function seedDemoWallets(url: string, opts: { users?: number; points?: number } = {}) {
  const pool = createPool({ url, connectionLimit: 2, acquireTimeoutMs: 5_000 })
  const db = createDbClient(pool)
  const users = opts.users ?? 10
  const points = BigInt(opts.points ?? 1_000_000)
  let created = 0
  try {
    for (let u = 1; u <= users; u++) {
      const userId = String(u)
      await db.$transaction(async (tx) => {
        const inserted = await tx.$executeRaw`INSERT IGNORE INTO wallets (user_id, balance) VALUES (${userId}, ${points})`
        if (inserted === 1) {
          await tx.ledgerEntry.create({ data: { id: uuidv7(), userId, kind: 'CHARGE', amount: points, reference: `seed:${userId}` } })
          created++
        }
      })
    }
    return { users, created }
  } finally {
    await db.$disconnect()
    await pool.end()
  }
}

export interface PaymentRecord {
  paymentId: string
  reservationId: string
  userId: string
  amount: number
  status: string
  ageSeconds: number
}

/**
 * What reconciliation needs from the payment database: every violation it can see alone, plus
 * the payments to compare with booking's reservations.
 */
export async function readPaymentFacts(url: string, opts: { outboxMaxAgeSeconds: number }) {
  const pool = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 5_000 })
  const violations: string[] = []
  try {
    const conn = await pool.getConnection()
    try {
      // One snapshot for every read, so a payment committing meanwhile cannot look half-done.
      await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT')
      const wallets = await conn.query<{ user_id: string; balance: string; ledger: string }[]>(
        `SELECT u.user_id, CAST(COALESCE(w.balance, 0) AS CHAR) AS balance, CAST(COALESCE(l.total, 0) AS CHAR) AS ledger
           FROM (SELECT user_id FROM wallets UNION SELECT user_id FROM ledger_entries) u
           LEFT JOIN wallets w ON w.user_id = u.user_id
           LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger_entries GROUP BY user_id) l ON l.user_id = u.user_id`,
      )
      for (const w of wallets) {
        if (w.balance !== w.ledger) violations.push(`wallet ${w.user_id}: balance ${w.balance} but its ledger sums to ${w.ledger}`)
        if (BigInt(w.balance) < 0n) violations.push(`wallet ${w.user_id}: balance ${w.balance} is negative`)
      }
      const rows = await conn.query<
        {
          id: string
          reservation_id: string
          user_id: string
          amount: bigint
          status: string
          age: bigint
          paid: string | null
          paid_n: bigint
          refunded: string | null
          refunded_n: bigint
        }[]
      >(
        `SELECT p.id, p.reservation_id, p.user_id, p.amount, p.status, TIMESTAMPDIFF(SECOND, p.created_at, NOW(3)) AS age,
                CAST(SUM(CASE WHEN l.kind = 'PAYMENT' THEN l.amount END) AS CHAR) AS paid, COUNT(CASE WHEN l.kind = 'PAYMENT' THEN 1 END) AS paid_n,
                CAST(SUM(CASE WHEN l.kind = 'REFUND' THEN l.amount END) AS CHAR) AS refunded, COUNT(CASE WHEN l.kind = 'REFUND' THEN 1 END) AS refunded_n
           FROM payments p LEFT JOIN ledger_entries l ON l.reference = p.id AND l.kind IN ('PAYMENT', 'REFUND')
          GROUP BY p.id, p.reservation_id, p.user_id, p.amount, p.status, p.created_at`,
      )
      const payments: PaymentRecord[] = []
      for (const r of rows) {
        const amount = Number(r.amount)
        if (Number(r.paid_n) !== 1 || Number(r.paid) !== -amount)
          violations.push(`payment ${r.id}: ${r.paid_n} PAYMENT ledger entries summing to ${r.paid ?? 0}, expected one of ${-amount}`)
        const refunds = r.status === 'REFUNDED' ? 1 : 0
        if (Number(r.refunded_n) !== refunds || (refunds === 1 && Number(r.refunded) !== amount))
          violations.push(`payment ${r.id} (${r.status}): ${r.refunded_n} REFUND ledger entries, expected ${refunds}`)
        payments.push({ paymentId: r.id, reservationId: r.reservation_id, userId: r.user_id, amount, status: r.status, ageSeconds: Number(r.age) })
      }
      const orphans = await conn.query<{ kind: string; reference: string }[]>(
        "SELECT l.kind, l.reference FROM ledger_entries l LEFT JOIN payments p ON p.id = l.reference WHERE l.kind IN ('PAYMENT', 'REFUND') AND p.id IS NULL",
      )
      for (const o of orphans) violations.push(`ledger ${o.kind} entry for payment ${o.reference} that does not exist`)
      const stale = await conn.query<{ id: string; subject: string; age: bigint }[]>(
        'SELECT id, subject, TIMESTAMPDIFF(SECOND, created_at, NOW(3)) AS age FROM outbox_events WHERE published_at IS NULL AND created_at < NOW(3) - INTERVAL ? SECOND',
        [opts.outboxMaxAgeSeconds],
      )
      for (const s of stale) violations.push(`payment outbox event ${s.id} (${s.subject}) unpublished for ${s.age} s`)
      await conn.query('COMMIT')
      return { violations, payments, wallets: wallets.length }
    } finally {
      await conn.release()
    }
  } finally {
    await pool.end()
  }
}
