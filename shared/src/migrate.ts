import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import type { SecureContextOptions } from 'node:tls'
import { join } from 'node:path'
import * as mariadb from 'mariadb'
import { takeMigrationLock, type MigrationLock, type MigrationLockOptions } from './migration-lock.js'

export interface DbTarget {
  host: string
  port: number
  user: string
  password: string
  database: string
  /** TLS to the server, from the URL's `ssl*` parameters; null: plain TCP. */
  tls: DbTls | null
}

/** The URL parameters, named as the MariaDB client's own options (`mariadb --ssl-ca=...`). */
export interface DbTls {
  /** PEM files: the CA that signed the server's certificate, and the client's own certificate and key. */
  ca?: string
  cert?: string
  key?: string
  /** Check the server's certificate and name (default: yes). */
  verifyServerCert: boolean
}

const TLS_PARAMS = ['ssl', 'ssl-ca', 'ssl-cert', 'ssl-key', 'ssl-verify-server-cert']

function flag(value: string, name: string): boolean {
  if (value === 'true' || value === '1' || value === '') return true
  if (value === 'false' || value === '0') return false
  throw new Error(`${name}=${value} in a MariaDB URL: say true or false`)
}

/** TLS from `?ssl=true&ssl-ca=/etc/db/ca.pem...`: any `ssl-*` parameter turns it on; `ssl=false` keeps it off. */
function tlsOf(params: URLSearchParams): DbTls | null {
  const given = (name: string) => params.get(name) ?? undefined
  const on = params.has('ssl') ? flag(params.get('ssl')!, 'ssl') : TLS_PARAMS.some((p) => params.has(p))
  if (!on) return null
  const verify = params.has('ssl-verify-server-cert') ? flag(params.get('ssl-verify-server-cert')!, 'ssl-verify-server-cert') : true
  return { ca: given('ssl-ca'), cert: given('ssl-cert'), key: given('ssl-key'), verifyServerCert: verify }
}

/**
 * `mysql://user:password@host:port/database?ssl-ca=...`. Parameters other than the TLS ones are
 * refused, not dropped: a setting an operator wrote must either apply or stop the service.
 */
export function parseMysqlUrl(url: string): DbTarget {
  const u = new URL(url)
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (!database) throw new Error(`database name missing in ${u.protocol}//${u.host}/`)
  if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`database name "${database}" may hold only letters, digits and _`)
  const unknown = [...u.searchParams.keys()].filter((k) => !TLS_PARAMS.includes(k))
  if (unknown.length > 0) throw new Error(`MariaDB URL parameters not supported: ${unknown.join(', ')} (supported: ${TLS_PARAMS.join(', ')})`)
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    database,
    tls: tlsOf(u.searchParams),
  }
}

/**
 * The driver's `ssl` option for a target: the PEM files read once, when the pool or connection is
 * made. `host`: the driver starts TLS on its open socket, and Node then checks the certificate's
 * name against this (against "localhost" without it).
 */
export function driverTls(target: DbTarget): { ssl?: SecureContextOptions & { rejectUnauthorized: boolean; host: string } } {
  const tls = target.tls
  if (!tls) return {}
  const pem = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined)
  return { ssl: { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key), rejectUnauthorized: tls.verifyServerCert, host: target.host } }
}

/** The same settings for the `mariadb` and `mariadb-dump` command lines. */
export function clientTlsArgs(target: DbTarget): string[] {
  const tls = target.tls
  if (!tls) return []
  return [
    '--ssl',
    ...(tls.ca ? [`--ssl-ca=${tls.ca}`] : []),
    ...(tls.cert ? [`--ssl-cert=${tls.cert}`] : []),
    ...(tls.key ? [`--ssl-key=${tls.key}`] : []),
    ...(tls.verifyServerCert ? ['--ssl-verify-server-cert'] : []),
  ]
}

async function serverConnection(target: DbTarget, database?: string) {
  return mariadb.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    ...driverTls(target),
    ...(database ? { database } : {}),
    multipleStatements: true,
    connectTimeout: 3_000,
  })
}

export async function createDatabase(url: string): Promise<void> {
  const target = parseMysqlUrl(url)
  const conn = await serverConnection(target)
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${target.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  } finally {
    await conn.end()
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const target = parseMysqlUrl(url)
  const conn = await serverConnection(target)
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${target.database}\``)
  } finally {
    await conn.end()
  }
}

// The table `prisma migrate deploy` keeps, so a machine with Prisma's native engine sees these as applied.
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
  id VARCHAR(36) NOT NULL PRIMARY KEY,
  checksum VARCHAR(64) NOT NULL,
  finished_at DATETIME(3) NULL,
  migration_name VARCHAR(255) NOT NULL,
  logs TEXT NULL,
  rolled_back_at DATETIME(3) NULL,
  started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`

export interface MigrationResult {
  applied: string[]
  alreadyApplied: string[]
}

/**
 * Applies `prisma/migrations/<timestamp>_<name>/migration.sql` in order, recording each in
 * `_prisma_migrations` the way Prisma does (sha256 checksum, finished_at, applied_steps_count).
 * Refuses a migration whose file changed after it was applied. A lock row (migration-lock.ts) keeps
 * several instances from migrating at once, on one server, through a proxy or on Galera.
 */
export async function applyMigrations(url: string, migrationsDir: string, lockOptions: MigrationLockOptions = {}): Promise<MigrationResult> {
  await createDatabase(url)
  const target = parseMysqlUrl(url)
  const lockConn = await serverConnection(target, target.database)
  const conn = await serverConnection(target, target.database).catch(async (err: unknown) => {
    await lockConn.end()
    throw err
  })
  const result: MigrationResult = { applied: [], alreadyApplied: [] }
  let lock: MigrationLock | undefined
  try {
    lock = await takeMigrationLock(lockConn, target.database, lockOptions)
    await conn.query(MIGRATIONS_TABLE)
    const rows = await conn.query<{ migration_name: string; checksum: string; finished_at: Date | null }[]>(
      'SELECT migration_name, checksum, finished_at FROM _prisma_migrations WHERE rolled_back_at IS NULL',
    )
    const done = new Map(rows.map((r) => [r.migration_name, r]))
    const names = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort()
    for (const name of names) {
      if (lock.lost()) throw new Error(`another migrator took the lock on ${target.database} over (this one stalled past its lease): stopped before ${name}`)
      const sql = await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8')
      const checksum = createHash('sha256').update(sql).digest('hex')
      const previous = done.get(name)
      if (previous) {
        if (previous.checksum !== checksum) throw new Error(`migration ${name} was edited after it was applied: write a new migration instead`)
        if (!previous.finished_at) throw new Error(`migration ${name} failed half-way before: repair ${target.database} by hand`)
        result.alreadyApplied.push(name)
        continue
      }
      const id = randomUUID()
      await conn.query('INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES (?, ?, ?, NOW(3))', [id, checksum, name])
      try {
        await conn.query(sql)
      } catch (err) {
        await conn.query('UPDATE _prisma_migrations SET logs = ? WHERE id = ?', [String((err as Error).message), id])
        throw new Error(`migration ${name} failed: ${(err as Error).message}`, { cause: err })
      }
      await conn.query('UPDATE _prisma_migrations SET finished_at = NOW(3), applied_steps_count = 1 WHERE id = ?', [id])
      result.applied.push(name)
    }
  } finally {
    await lock?.release().catch(() => undefined)
    await Promise.allSettled([conn.end(), lockConn.end()])
  }
  return result
}
