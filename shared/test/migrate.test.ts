import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as mariadb from 'mariadb'
import { afterAll, describe, expect, it } from 'vitest'
import { applyMigrations, dropDatabase, parseMysqlUrl } from '../src/migrate.js'
import { isolation, mysqlUrl } from '@tickets/testkit'

const iso = isolation(import.meta.url)
const url = mysqlUrl(iso.database('migrate'))
afterAll(() => dropDatabase(url))

async function migrationsDir(files: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'))
  for (const [name, sql] of Object.entries(files)) {
    await mkdir(join(dir, name))
    await writeFile(join(dir, name, 'migration.sql'), sql)
  }
  return dir
}

async function query<T>(sql: string): Promise<T> {
  return queryOn<T>(url, sql)
}

async function queryOn<T>(on: string, sql: string): Promise<T> {
  const t = parseMysqlUrl(on)
  const conn = await mariadb.createConnection({ ...t })
  try {
    return (await conn.query(sql)) as T
  } finally {
    await conn.end()
  }
}

describe('applyMigrations', () => {
  it('applies pending migrations in order once, recording them as Prisma does, and refuses an edited one', async () => {
    const dir = await migrationsDir({
      '20260101000000_a': 'CREATE TABLE a (id INT PRIMARY KEY);',
      '20260102000000_b': 'ALTER TABLE a ADD COLUMN name VARCHAR(10) NULL;\nINSERT INTO a (id, name) VALUES (1, "x");',
    })
    expect(await applyMigrations(url, dir)).toEqual({ applied: ['20260101000000_a', '20260102000000_b'], alreadyApplied: [] })
    expect(await applyMigrations(url, dir)).toEqual({ applied: [], alreadyApplied: ['20260101000000_a', '20260102000000_b'] })
    const rows = await query<{ migration_name: string; checksum: string; applied_steps_count: number; finished_at: Date }[]>(
      'SELECT migration_name, checksum, applied_steps_count, finished_at FROM _prisma_migrations ORDER BY migration_name',
    )
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({ migration_name: '20260101000000_a', applied_steps_count: 1 })
    expect(rows[0]!.checksum).toMatch(/^[0-9a-f]{64}$/)
    expect(rows[0]!.finished_at).toBeInstanceOf(Date)

    await writeFile(join(dir, '20260101000000_a', 'migration.sql'), 'CREATE TABLE a (id BIGINT PRIMARY KEY);')
    await expect(applyMigrations(url, dir)).rejects.toThrow(/edited after it was applied/)
  })

  it('when a migration fails, then it stops there and says which', async () => {
    const dir = await migrationsDir({ '20260201000000_bad': 'CREATE TABLE broken (id INT PRIMARY KEY' })
    const other = mysqlUrl(iso.database('migrate_bad'))
    try {
      await expect(applyMigrations(other, dir)).rejects.toThrow(/20260201000000_bad failed/)
    } finally {
      await dropDatabase(other)
    }
  })
})

describe('the migration lock (a row, not GET_LOCK)', () => {
  it('when three migrators start at once and work outlasts the lease, then renewals keep it; each migration applies once', async () => {
    const dir = await migrationsDir({ '20260301000000_slow': 'CREATE TABLE slow (id INT PRIMARY KEY);\nDO SLEEP(1.5);', '20260302000000_next': 'INSERT INTO slow VALUES (1);' })
    const other = mysqlUrl(iso.database('migrate_race'))
    try {
      const results = await Promise.all([1, 2, 3].map(() => applyMigrations(other, dir, { leaseMs: 600, waitMs: 20_000 })))
      expect(results.flatMap((r) => r.applied).sort()).toEqual(['20260301000000_slow', '20260302000000_next'])
      expect(results.filter((r) => r.applied.length === 0).map((r) => r.alreadyApplied)).toEqual([
        ['20260301000000_slow', '20260302000000_next'],
        ['20260301000000_slow', '20260302000000_next'],
      ])
      expect(await queryOn<unknown[]>(other, 'SELECT * FROM _migration_lock')).toEqual([])
    } finally {
      await dropDatabase(other)
    }
  })

  it('when a migrator died holding the lock, then the next takes it over once its lease ran out', async () => {
    const dir = await migrationsDir({ '20260401000000_a': 'CREATE TABLE a (id INT PRIMARY KEY);' })
    const other = mysqlUrl(iso.database('migrate_stale'))
    try {
      await applyMigrations(other, await migrationsDir({}))
      await queryOn(other, "INSERT INTO _migration_lock VALUES (1, 'dead-host:1:abcdef', NOW(3) + INTERVAL 1 SECOND)")
      const started = Date.now()
      expect((await applyMigrations(other, dir, { waitMs: 10_000 })).applied).toEqual(['20260401000000_a'])
      expect(Date.now() - started).toBeGreaterThanOrEqual(500)
    } finally {
      await dropDatabase(other)
    }
  })

  it('when another migrator holds a live lease, then this one waits and gives up saying who holds it', async () => {
    const other = mysqlUrl(iso.database('migrate_held'))
    try {
      await applyMigrations(other, await migrationsDir({}))
      await queryOn(other, "INSERT INTO _migration_lock VALUES (1, 'busy-host:7:abcdef', NOW(3) + INTERVAL 1 HOUR)")
      await expect(applyMigrations(other, await migrationsDir({}), { waitMs: 500 })).rejects.toThrow(/busy-host:7:abcdef holds it until/)
    } finally {
      await dropDatabase(other)
    }
  })
})
