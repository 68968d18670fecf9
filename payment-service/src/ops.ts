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
