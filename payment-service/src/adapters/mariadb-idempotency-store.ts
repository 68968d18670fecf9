import { randomUUID } from 'node:crypto'
import { isDuplicateKey } from '@tickets/shared/db-errors'
import type { Pool } from 'mariadb'

export interface StoredResponse {
  status: number
  contentType: string
  body: string
}

/** `firstRun`: the key's use was never run before (a new or expired key), so nothing it made can exist yet. */
export type Claim = { kind: 'claimed'; requestId: string; firstRun: boolean } | { kind: 'mismatch' } | { kind: 'in_progress' } | { kind: 'done'; response: StoredResponse }

export interface KeyRef {
  userId: string
  key: string
  owner: string
}

interface Row {
  request_hash: string
  request_id: string
  state: 'IN_PROGRESS' | 'DONE'
  response_status: number | null
  response_type: string | null
  response_body: string | null
  expired: number | bigint
  lease_over: number | bigint
}

interface Affected {
  affectedRows: number
}

/**
 * Idempotency-Key records in the payment database. Time is the database's (NOW(3)), so several
 * instances with drifting clocks agree on leases and expiry.
 */
export function createMariadbIdempotencyStore(pool: Pool, opts: { ttlSeconds: number; leaseMs: number }) {
  const leaseMicros = opts.leaseMs * 1_000

  async function claim(ref: KeyRef, requestHash: string): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const requestId = randomUUID()
      try {
        await pool.query(
          `INSERT INTO idempotency_keys (user_id, idem_key, request_hash, request_id, state, owner, locked_until, expires_at)
           VALUES (?, ?, ?, ?, 'IN_PROGRESS', ?, NOW(3) + INTERVAL ? MICROSECOND, NOW(3) + INTERVAL ? SECOND)`,
          [ref.userId, ref.key, requestHash, requestId, ref.owner, leaseMicros, opts.ttlSeconds],
        )
        return { kind: 'claimed', requestId, firstRun: true }
      } catch (err) {
        if (!isDuplicateKey(err)) throw err
      }
      const [row] = await pool.query<Row[]>(
        `SELECT request_hash, request_id, state, response_status, response_type, response_body,
                expires_at <= NOW(3) AS expired, locked_until <= NOW(3) AS lease_over
           FROM idempotency_keys WHERE user_id = ? AND idem_key = ?`,
        [ref.userId, ref.key],
      )
      if (!row) continue
      if (Number(row.expired)) {
        // Past its retention the key is free again: whoever updates it first owns it.
        const took = await pool.query<Affected>(
          `UPDATE idempotency_keys SET request_hash = ?, request_id = ?, state = 'IN_PROGRESS', owner = ?, locked_until = NOW(3) + INTERVAL ? MICROSECOND,
                  expires_at = NOW(3) + INTERVAL ? SECOND, created_at = NOW(3), response_status = NULL, response_type = NULL, response_body = NULL
            WHERE user_id = ? AND idem_key = ? AND expires_at <= NOW(3)`,
          [requestHash, requestId, ref.owner, leaseMicros, opts.ttlSeconds, ref.userId, ref.key],
        )
        if (took.affectedRows === 1) return { kind: 'claimed', requestId, firstRun: true }
        continue
      }
      if (row.request_hash !== requestHash) return { kind: 'mismatch' }
      if (row.state === 'DONE') {
        return { kind: 'done', response: { status: row.response_status ?? 200, contentType: row.response_type ?? 'application/json', body: row.response_body ?? '' } }
      }
      if (!Number(row.lease_over)) return { kind: 'in_progress' }
      // The request that held it died (its lease ran out): run it again. The work is idempotent by
      // ids derived from the key, so a first run that did commit is found, not repeated.
      const took = await pool.query<Affected>(
        `UPDATE idempotency_keys SET owner = ?, locked_until = NOW(3) + INTERVAL ? MICROSECOND
          WHERE user_id = ? AND idem_key = ? AND state = 'IN_PROGRESS' AND locked_until <= NOW(3)`,
        [ref.owner, leaseMicros, ref.userId, ref.key],
      )
      if (took.affectedRows === 1) return { kind: 'claimed', requestId: row.request_id, firstRun: false }
    }
    return { kind: 'in_progress' }
  }

  return {
    claim,

    /** Stores the answer for replays; only the current owner may (a taken-over run stays silent). */
    async complete(ref: KeyRef, response: StoredResponse): Promise<void> {
      await pool.query(
        `UPDATE idempotency_keys SET state = 'DONE', response_status = ?, response_type = ?, response_body = ?, locked_until = NOW(3)
          WHERE user_id = ? AND idem_key = ? AND owner = ? AND state = 'IN_PROGRESS'`,
        [response.status, response.contentType.slice(0, 128), response.body, ref.userId, ref.key, ref.owner],
      )
    },

    /** Forgets a key whose request failed on our side (5xx), so the client may retry with it. */
    async release(ref: KeyRef): Promise<void> {
      await pool.query(`DELETE FROM idempotency_keys WHERE user_id = ? AND idem_key = ? AND owner = ? AND state = 'IN_PROGRESS'`, [ref.userId, ref.key, ref.owner])
    },

    /** Deletes keys past their retention; returns how many. */
    async sweep(limit = 1_000): Promise<number> {
      const res = await pool.query<Affected>('DELETE FROM idempotency_keys WHERE expires_at < NOW(3) LIMIT ?', [limit])
      return res.affectedRows
    },
  }
}
export type IdempotencyStore = ReturnType<typeof createMariadbIdempotencyStore>
