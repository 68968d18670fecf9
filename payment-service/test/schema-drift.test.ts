import { dropDatabase } from '@tickets/shared/migrate'
import { findSchemaDrift } from '@tickets/shared/schema-drift'
import { isolation, mysqlUrl } from '@tickets/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate, schemaPath } from '../src/ops.js'

const url = mysqlUrl(isolation(import.meta.url).database('drift'))
afterAll(() => dropDatabase(url))

describe('prisma/schema.prisma and prisma/migrations', () => {
  it('describe the same tables, columns and indexes', async () => {
    await migrate(url)
    expect(await findSchemaDrift(schemaPath, url)).toEqual([])
  })
})
