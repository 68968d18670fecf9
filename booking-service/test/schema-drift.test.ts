import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { dropDatabase } from '@tickets/shared/migrate'
import { OUTBOX_TABLE_SQL } from '@tickets/shared/outbox'
import { findSchemaDrift } from '@tickets/shared/schema-drift'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate, migrationsDir, schemaPath } from '../src/ops.js'

const url = mysqlUrl(isolation(import.meta.url).database('drift'))
afterAll(() => dropDatabase(url))

describe('prisma/schema.prisma and prisma/migrations', () => {
  it('describe the same tables, columns and indexes', async () => {
    await migrate(url)
    expect(await findSchemaDrift(schemaPath, url)).toEqual([])
  })
})

describe('the outbox table', () => {
  it('is created exactly as OUTBOX_TABLE_SQL describes it', async () => {
    const sql = await readFile(join(migrationsDir, '20261125000000_reservations', 'migration.sql'), 'utf8')
    expect(sql).toContain(OUTBOX_TABLE_SQL)
  })
})
