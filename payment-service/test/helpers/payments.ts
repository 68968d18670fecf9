import { createConnection } from 'mariadb'
import { parseMysqlUrl } from '@tickets/shared/migrate'
import type { FastifyInstance } from 'fastify'
import { fromGateway } from '@tickets/testkit'

export function charge(app: FastifyInstance, userId: string, amount: number, key: string) {
  return app.inject(fromGateway({ method: 'POST', url: '/api/points/charge', headers: { 'x-user-id': userId, 'idempotency-key': key }, payload: { amount } }))
}

export function pay(app: FastifyInstance, userId: string, reservationId: string, key: string, headers: Record<string, string> = {}) {
  return app.inject(fromGateway({ method: 'POST', url: '/api/payments', headers: { 'x-user-id': userId, 'idempotency-key': key, ...headers }, payload: { reservationId } }))
}

export async function balanceOf(app: FastifyInstance, userId: string): Promise<number> {
  return (await app.inject(fromGateway({ method: 'GET', url: '/api/points', headers: { 'x-user-id': userId } }))).json().balance
}

export async function ledgerSum(app: FastifyInstance, userId: string): Promise<number> {
  const [row] = await app.pool.query<{ total: string | null }[]>('SELECT CAST(SUM(amount) AS CHAR) AS total FROM ledger_entries WHERE user_id = ?', [userId])
  return Number(row?.total ?? 0)
}

export async function ledgerEntries(app: FastifyInstance, userId: string, kind: string): Promise<number> {
  const [row] = await app.pool.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM ledger_entries WHERE user_id = ? AND kind = ?', [userId, kind])
  return Number(row?.n ?? 0)
}

/** A counter's value as /metrics shows it (labels matched as given). */
export async function metricValue(app: FastifyInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await app.admin.inject({ method: 'GET', url: '/metrics' })).body
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').pop())
  }
  return total
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * Locks the user's wallet row in a transaction of its own, so that a payment stops between BEGIN
 * and its transaction; `release` commits and closes it.
 */
export async function lockWallet(url: string, userId: string): Promise<{ release(): Promise<void> }> {
  const t = parseMysqlUrl(url)
  const blocker = await createConnection({ host: t.host, port: t.port, user: t.user, password: t.password, database: t.database })
  await blocker.beginTransaction()
  await blocker.query('SELECT balance FROM wallets WHERE user_id = ? FOR UPDATE', [userId])
  return {
    async release() {
      await blocker.commit()
      await blocker.end()
    },
  }
}
