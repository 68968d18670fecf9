import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import * as mariadb from 'mariadb'
import { driverTls, parseMysqlUrl } from './migrate.js'

interface DmmfField {
  name: string
  dbName: string | null
  kind: 'scalar' | 'object' | 'enum' | 'unsupported'
  isRequired: boolean
  isList: boolean
  type: string
  nativeType: [string, string[]] | null
}
interface DmmfModel {
  name: string
  dbName: string | null
  fields: DmmfField[]
}
interface DmmfIndex {
  model: string
  type: 'id' | 'unique' | 'normal' | 'fulltext'
  fields: { name: string }[]
}

const EXACT_COLLATION = 'utf8mb4_bin'

const DEFAULT_TYPES: Record<string, string> = {
  String: 'varchar(191)',
  Int: 'int',
  BigInt: 'bigint',
  Boolean: 'tinyint',
  DateTime: 'datetime(3)',
  Float: 'double',
  Decimal: 'decimal(65,30)',
  Json: 'longtext',
  Bytes: 'longblob',
}

function expectedColumnType(field: DmmfField): string {
  if (field.kind === 'enum') return 'enum'
  if (!field.nativeType) return DEFAULT_TYPES[field.type] ?? field.type.toLowerCase()
  const [name, args] = field.nativeType
  const base = name.replace(/^Unsigned/, '').toLowerCase()
  const unsigned = name.startsWith('Unsigned') ? ' unsigned' : ''
  return args.length > 0 ? `${base}(${args.join(',')})${unsigned}` : `${base}${unsigned}`
}

function normaliseColumnType(columnType: string, dataType: string): string {
  if (dataType === 'enum') return 'enum'
  // MariaDB reports JSON as longtext with a CHECK; display widths (int(11)) are noise.
  return columnType.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, '$1').replace(/^tinyint\(1\)/, 'tinyint')
}

async function loadDmmf(schemaPath: string): Promise<{ models: DmmfModel[]; indexes: DmmfIndex[] }> {
  const require = createRequire(import.meta.url)
  const wasm = require('@prisma/prisma-schema-wasm') as { get_dmmf(params: string): string }
  const schema = await readFile(schemaPath, 'utf8')
  const dmmf = JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: [[schemaPath, schema]] }))) as {
    datamodel: { models: DmmfModel[]; indexes: DmmfIndex[] }
  }
  return dmmf.datamodel
}

/**
 * Compares `schema.prisma` with a database that the migration SQL built: tables, columns (type and
 * nullability) and indexes, both ways; and every string column must compare byte for byte. Returns one line per disagreement; empty means they agree.
 * Prisma's own `migrate diff` needs the native schema engine, which this machine cannot install.
 */
export async function findSchemaDrift(schemaPath: string, url: string): Promise<string[]> {
  const { models, indexes } = await loadDmmf(schemaPath)
  const target = parseMysqlUrl(url)
  const conn = await mariadb.createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    ...driverTls(target),
  })
  const drift: string[] = []
  try {
    const columns = await conn.query<{ TABLE_NAME: string; COLUMN_NAME: string; IS_NULLABLE: string; DATA_TYPE: string; COLUMN_TYPE: string; COLLATION_NAME: string | null }[]>(
      `SELECT TABLE_NAME, COLUMN_NAME, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME NOT IN ('_prisma_migrations', '_migration_lock')`,
      [target.database],
    )
    const stats = await conn.query<{ TABLE_NAME: string; INDEX_NAME: string; NON_UNIQUE: number | bigint; SEQ_IN_INDEX: number | bigint; COLUMN_NAME: string }[]>(
      `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME NOT IN ('_prisma_migrations', '_migration_lock') ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
      [target.database],
    )
    const dbTables = new Map<string, Map<string, { nullable: boolean; type: string }>>()
    for (const c of columns) {
      // Ids and keys compare byte for byte (docs/decisions/exact-identities.md); schema.prisma cannot say so.
      if (c.COLLATION_NAME !== null && c.COLLATION_NAME !== EXACT_COLLATION)
        drift.push(`column ${c.TABLE_NAME}.${c.COLUMN_NAME} compares as ${c.COLLATION_NAME}, not byte for byte (${EXACT_COLLATION})`)
      const table = dbTables.get(c.TABLE_NAME) ?? new Map()
      table.set(c.COLUMN_NAME, { nullable: c.IS_NULLABLE === 'YES', type: normaliseColumnType(c.COLUMN_TYPE, c.DATA_TYPE) })
      dbTables.set(c.TABLE_NAME, table)
    }
    const tableOf = new Map(models.map((m) => [m.name, m.dbName ?? m.name]))
    const columnOf = new Map(models.flatMap((m) => m.fields.map((f) => [`${m.name}.${f.name}`, f.dbName ?? f.name] as const)))

    for (const model of models) {
      const table = tableOf.get(model.name) ?? model.name
      const dbColumns = dbTables.get(table)
      if (!dbColumns) {
        drift.push(`table ${table} (model ${model.name}) is in schema.prisma but not in the migrations`)
        continue
      }
      const declared = new Set<string>()
      for (const field of model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum')) {
        const column = field.dbName ?? field.name
        declared.add(column)
        const actual = dbColumns.get(column)
        if (!actual) {
          drift.push(`column ${table}.${column} is in schema.prisma but not in the migrations`)
          continue
        }
        if (actual.nullable === field.isRequired)
          drift.push(`column ${table}.${column} is ${actual.nullable ? 'NULL' : 'NOT NULL'} in the migrations but ${field.isRequired ? 'required' : 'optional'} in schema.prisma`)
        const expected = expectedColumnType(field)
        if (actual.type !== expected) drift.push(`column ${table}.${column} is ${actual.type} in the migrations but ${expected} in schema.prisma`)
      }
      for (const column of dbColumns.keys()) {
        if (!declared.has(column)) drift.push(`column ${table}.${column} is in the migrations but not in schema.prisma`)
      }
    }
    const modelTables = new Set(tableOf.values())
    for (const table of dbTables.keys()) {
      if (!modelTables.has(table)) drift.push(`table ${table} is in the migrations but not in schema.prisma`)
    }

    const key = (table: string, kind: string, cols: string[]) => `${table} ${kind} (${cols.join(', ')})`
    const expectedIndexes = new Set(
      indexes.map((i) => {
        const table = tableOf.get(i.model) ?? i.model
        const kind = i.type === 'id' ? 'primary' : i.type === 'unique' ? 'unique' : 'index'
        return key(
          table,
          kind,
          i.fields.map((f) => columnOf.get(`${i.model}.${f.name}`) ?? f.name),
        )
      }),
    )
    const dbIndexes = new Map<string, { table: string; unique: boolean; cols: string[] }>()
    for (const s of stats) {
      const id = `${s.TABLE_NAME}.${s.INDEX_NAME}`
      const entry = dbIndexes.get(id) ?? { table: s.TABLE_NAME, unique: Number(s.NON_UNIQUE) === 0, cols: [] }
      entry.cols.push(s.COLUMN_NAME)
      dbIndexes.set(id, entry)
    }
    const actualIndexes = new Set([...dbIndexes.entries()].map(([id, i]) => key(i.table, id.endsWith('.PRIMARY') ? 'primary' : i.unique ? 'unique' : 'index', i.cols)))
    for (const k of expectedIndexes) if (!actualIndexes.has(k)) drift.push(`index ${k} is in schema.prisma but not in the migrations`)
    for (const k of actualIndexes) if (!expectedIndexes.has(k)) drift.push(`index ${k} is in the migrations but not in schema.prisma`)
  } finally {
    await conn.end()
  }
  return drift
}
