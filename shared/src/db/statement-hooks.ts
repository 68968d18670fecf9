import type * as mariadb from 'mariadb'

/** The SQL text of a query's first argument (a string, or an options object with `sql`). */
export function sqlOf(arg: unknown): string {
  if (typeof arg === 'string') return arg
  if (arg && typeof arg === 'object' && typeof (arg as { sql?: unknown }).sql === 'string') return (arg as { sql: string }).sql
  return ''
}

type Method = (...args: unknown[]) => Promise<unknown>
export type AroundStatement = (sql: string, run: () => Promise<unknown>) => Promise<unknown>

/** Runs every statement of a lent connection (query/execute/batch and BEGIN/COMMIT/ROLLBACK) through `around`. */
export function aroundStatements(conn: mariadb.PoolConnection, around: AroundStatement): mariadb.PoolConnection {
  const c = conn as unknown as Record<string, Method>
  for (const method of ['query', 'execute', 'batch'] as const) {
    const original = c[method]!
    c[method] = (sql: unknown, values?: unknown) => around(sqlOf(sql), () => original.call(conn, sql, values))
  }
  const keywords = { beginTransaction: 'BEGIN', commit: 'COMMIT', rollback: 'ROLLBACK' } as const
  for (const [method, keyword] of Object.entries(keywords)) {
    const original = c[method]!
    c[method] = () => around(keyword, () => original.call(conn))
  }
  return conn
}

/** A proxy of the pool with `overrides`; every other method runs with the real pool as `this` (it keeps its state in private fields). */
export function bindingProxy(pool: mariadb.Pool, overrides: Record<PropertyKey, unknown>): mariadb.Pool {
  const bound = new Map<PropertyKey, unknown>()
  return new Proxy(pool, {
    get(real, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop]
      const value: unknown = Reflect.get(real, prop, real)
      if (typeof value !== 'function') return value
      let fn = bound.get(prop)
      if (!fn) {
        fn = (value as (...a: unknown[]) => unknown).bind(real)
        bound.set(prop, fn)
      }
      return fn
    },
  })
}
