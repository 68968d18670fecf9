import { cp, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyMigrations, dropDatabase } from '@tickets/shared/migrate'
import { createPool } from '@tickets/shared/mysql'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { migrationsDir } from '../src/ops.js'

const EXACT = '20261208000000_exact_identities'
const url = mysqlUrl(isolation(import.meta.url).database('exact'))
const before = await mkdtemp(join(tmpdir(), 'payment-migrations-'))
for (const name of (await readdir(migrationsDir)).filter((n) => n < EXACT)) await cp(join(migrationsDir, name), join(before, name), { recursive: true })
const pool = createPool({ url, connectionLimit: 2, acquireTimeoutMs: 5_000 })
afterAll(async () => {
  await pool.end()
  await dropDatabase(url)
  await rm(before, { recursive: true, force: true })
})

describe(`migration ${EXACT} on a database written while ids were case-blind`, () => {
  it('when SEC42 had spent from sec42s wallet, then each spelling gets the balance of its own ledger', async () => {
    await applyMigrations(url, before)
    // What the case-blind tables let happen: SEC42's charge and payment landed on sec42's wallet row.
    await pool.query("INSERT INTO wallets (user_id, balance) VALUES ('sec42', 1300)")
    await pool.query(
      "INSERT INTO ledger_entries (id, user_id, kind, amount, reference) VALUES ('e1', 'sec42', 'CHARGE', 1000, NULL), ('e2', 'SEC42', 'CHARGE', 800, NULL), ('e3', 'SEC42', 'PAYMENT', -500, 'p1')",
    )
    await pool.query("INSERT INTO wallets (user_id, balance) VALUES ('clean', 70)")
    await pool.query("INSERT INTO ledger_entries (id, user_id, kind, amount, reference) VALUES ('e4', 'clean', 'CHARGE', 70, NULL)")
    await pool.query(
      "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, request_id, state, owner, locked_until, expires_at) VALUES ('sec42', 'k', REPEAT('a', 64), 'r1', 'DONE', 'o', NOW(3), NOW(3) + INTERVAL 1 DAY)",
    )

    expect((await applyMigrations(url, migrationsDir)).applied).toContain(EXACT)

    const wallets = await pool.query<{ user_id: string; balance: bigint }[]>('SELECT user_id, balance FROM wallets ORDER BY user_id')
    expect(wallets.map((w) => [w.user_id, Number(w.balance)])).toEqual([
      ['SEC42', 300],
      ['clean', 70],
      ['sec42', 1000],
    ])
    await pool.query(
      "INSERT INTO idempotency_keys (user_id, idem_key, request_hash, request_id, state, owner, locked_until, expires_at) VALUES ('SEC42', 'k', REPEAT('b', 64), 'r2', 'DONE', 'o', NOW(3), NOW(3) + INTERVAL 1 DAY), ('sec42', 'K', REPEAT('c', 64), 'r3', 'DONE', 'o', NOW(3), NOW(3) + INTERVAL 1 DAY)",
    )
    const [keys] = await pool.query<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM idempotency_keys WHERE user_id = 'sec42' AND idem_key = 'k'")
    expect(Number(keys!.n)).toBe(1)
  })
})
