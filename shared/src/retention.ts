import type { FastifyBaseLogger } from 'fastify'
import type { Pool, UpsertResult } from 'mariadb'
import { Counter, type Registry } from 'prom-client'
import { repeat, type BackgroundWork } from './background.js'
import { EVENT_STREAM_MAX_AGE_MS } from './bus/streams.js'

/** Rows of `table` may go once `timeColumn` (set from the database clock) is older than `keepMs`; rows where it is NULL stay. */
export interface RetentionRule {
  table: string
  timeColumn: string
  keepMs: number
}

/** Published outbox rows: JetStream holds the events from then on, the row is only a trail for debugging. */
export const OUTBOX_RETENTION: RetentionRule = { table: 'outbox_events', timeColumn: 'published_at', keepMs: 24 * 3_600_000 }

/**
 * Consumers' dedup records. A message can come again (a lost ack, a consumer created anew reading
 * the stream from its start) only while its stream still holds it, so a record must outlive that by
 * a margin: a day past the streams' maximum age.
 */
export const PROCESSED_EVENTS_RETENTION: RetentionRule = { table: 'processed_events', timeColumn: 'processed_at', keepMs: EVENT_STREAM_MAX_AGE_MS + 24 * 3_600_000 }

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/

/**
 * Deletes what `rule` lets go, in batches of `batchSize` (each its own short statement, so a hot
 * table is never locked for long), until a batch comes back short. Returns how many rows went.
 */
export async function purgeExpiredRows(pool: Pool, rule: RetentionRule, batchSize = 1_000): Promise<number> {
  if (!IDENTIFIER.test(rule.table) || !IDENTIFIER.test(rule.timeColumn)) throw new Error(`not a table or column name: ${rule.table}.${rule.timeColumn}`)
  // The cutoff is computed by the database: the time columns are written with its clock (NOW(3)).
  const sql = `DELETE FROM \`${rule.table}\` WHERE \`${rule.timeColumn}\` < NOW(3) - INTERVAL ? MICROSECOND LIMIT ?`
  let total = 0
  for (;;) {
    const res = await pool.query<UpsertResult>(sql, [rule.keepMs * 1_000, batchSize])
    total += Number(res.affectedRows)
    if (Number(res.affectedRows) < batchSize) return total
  }
}

export interface RetentionOptions {
  pool: Pool
  rules: RetentionRule[]
  /** Time between passes; the first pass comes after a random part of it, so instances started together do not purge together. */
  intervalMs: number
  log: FastifyBaseLogger
  metrics?: Registry
  batchSize?: number
}

export interface Retention extends BackgroundWork {
  /** One pass over every rule; returns rows deleted per table. */
  runOnce(): Promise<Record<string, number>>
}

/** Purges every rule's expired rows every `intervalMs`; several instances may run it side by side. */
export function startRetention(opts: RetentionOptions): Retention {
  const log = opts.log.child({ component: 'retention' })
  const deleted =
    opts.metrics &&
    ((opts.metrics.getSingleMetric('retention_rows_deleted_total') as Counter<'table'> | undefined) ??
      new Counter({ name: 'retention_rows_deleted_total', help: 'Rows deleted because they outlived their retention', labelNames: ['table'], registers: [opts.metrics] }))

  async function runOnce(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {}
    for (const rule of opts.rules) {
      try {
        counts[rule.table] = await purgeExpiredRows(opts.pool, rule, opts.batchSize)
        if (counts[rule.table]! > 0) {
          deleted?.inc({ table: rule.table }, counts[rule.table])
          log.info({ table: rule.table, rows: counts[rule.table] }, 'expired rows deleted')
        }
      } catch (err) {
        // The next pass tries again; nothing is lost by waiting.
        log.warn({ err, table: rule.table }, 'retention pass failed')
      }
    }
    return counts
  }

  const passes = repeat(runOnce, { intervalMs: opts.intervalMs, firstDelayMs: Math.floor(Math.random() * opts.intervalMs) })
  return { runOnce, stop: passes.stop }
}
