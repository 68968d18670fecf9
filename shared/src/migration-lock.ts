import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Connection } from 'mariadb'

/**
 * One row says who migrates a database and until when. A row, not GET_LOCK: a named lock lives in
 * one server's memory, so Galera refuses it and a proxy may send the release to another server than
 * the one that granted it; a row is replicated and certified like any write. The holder renews its
 * lease while it works; a lease its holder stopped renewing (a migrator that died) is taken over.
 */
const LOCK_TABLE = `CREATE TABLE IF NOT EXISTS _migration_lock (
  id TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  owner VARCHAR(128) NOT NULL,
  expires_at DATETIME(3) NOT NULL
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`

// Takes the row when it is free or its lease ran out, renews it when it is ours, and leaves it alone
// otherwise. Assignments run left to right: expires_at sees the owner just written. Times are the
// server's own clock, the one every migrator shares.
const CLAIM = `INSERT INTO _migration_lock (id, owner, expires_at) VALUES (1, ?, NOW(3) + INTERVAL ? MICROSECOND)
ON DUPLICATE KEY UPDATE
  owner = IF(expires_at < NOW(3), VALUES(owner), owner),
  expires_at = IF(owner = VALUES(owner), VALUES(expires_at), expires_at)`

export interface MigrationLockOptions {
  /** How long the lease lasts unless renewed (renewed every third of it). */
  leaseMs?: number
  /** How long to wait for another migrator to finish before giving up. */
  waitMs?: number
}

export interface MigrationLock {
  owner: string
  /** True once another migrator took the lease over (this one stalled past it): stop before the next step. */
  lost(): boolean
  release(): Promise<void>
}

// Galera answers a write that lost certification to a concurrent one with a deadlock: try again.
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT'])

async function claim(conn: Connection, owner: string, leaseMs: number): Promise<boolean> {
  try {
    await conn.query(CLAIM, [owner, leaseMs * 1_000])
  } catch (err) {
    if (RETRYABLE.has((err as { code?: string }).code ?? '')) return false
    throw err
  }
  const [row] = await conn.query<{ owner: string }[]>('SELECT owner FROM _migration_lock WHERE id = 1')
  return row?.owner === owner
}

/** Takes the database's migration lock on `conn` (a connection of its own, used for nothing else until release). */
export async function takeMigrationLock(conn: Connection, database: string, opts: MigrationLockOptions = {}): Promise<MigrationLock> {
  const leaseMs = opts.leaseMs ?? 30_000
  const waitMs = opts.waitMs ?? 60_000
  const owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  await conn.query(LOCK_TABLE)
  const deadline = Date.now() + waitMs
  while (!(await claim(conn, owner, leaseMs))) {
    if (Date.now() > deadline) {
      const [row] = await conn.query<{ owner: string; expires_at: Date }[]>('SELECT owner, expires_at FROM _migration_lock WHERE id = 1')
      throw new Error(
        `could not take the migration lock on ${database} within ${waitMs} ms: ${row ? `${row.owner} holds it until ${row.expires_at.toISOString()}` : 'it kept changing hands'}`,
      )
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  let lost = false
  let renewing: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    renewing = claim(conn, owner, leaseMs).then(
      (held) => {
        if (!held) lost = true
      },
      () => undefined,
    )
  }, leaseMs / 3)
  timer.unref()
  return {
    owner,
    lost: () => lost,
    async release() {
      clearInterval(timer)
      await renewing
      await conn.query('DELETE FROM _migration_lock WHERE id = 1 AND owner = ?', [owner])
    },
  }
}
