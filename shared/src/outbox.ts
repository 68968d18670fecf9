import type { Pool, PoolConnection } from 'mariadb'
import { Gauge, type Registry } from 'prom-client'
import { Value } from 'typebox/value'
import { EnvelopeSchema, type Envelope, type SubjectName } from '@tickets/contracts/events'
import type { NatsBus } from './bus/connection.js'
import { publishEvent } from './bus/streams.js'
import type { FastifyBaseLogger } from 'fastify'
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api'
import { outsideRequests } from './connection-line.js'

/**
 * The transactional outbox. A service writes its event row in the same transaction as the state
 * change (see OUTBOX_TABLE_SQL for the table each service's migration creates); the relay publishes
 * unpublished rows to JetStream with msgID = event id and marks them published. A crash after the
 * publish and before the mark republishes the same msgID, which JetStream drops as a duplicate.
 */
export const OUTBOX_TABLE_SQL = `CREATE TABLE \`outbox_events\` (
    \`id\` VARCHAR(36) NOT NULL,
    \`subject\` VARCHAR(128) NOT NULL,
    \`payload\` LONGTEXT NOT NULL,
    \`trace_context\` VARCHAR(512) NULL,
    \`created_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    \`published_at\` DATETIME(3) NULL,
    \`attempts\` INTEGER NOT NULL DEFAULT 0,
    \`last_error\` VARCHAR(512) NULL,

    INDEX \`outbox_events_published_at_created_at_idx\`(\`published_at\`, \`created_at\`),
    PRIMARY KEY (\`id\`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`

/** The row to insert (with Prisma or SQL) inside the state change's transaction. */
export function outboxRow(subject: SubjectName, event: Envelope) {
  const carrier: Record<string, string> = {}
  propagation.inject(context.active(), carrier)
  return {
    id: event.id,
    subject,
    payload: JSON.stringify(event),
    traceContext: Object.keys(carrier).length > 0 ? JSON.stringify(carrier) : null,
  }
}

/** Writes `events` to the outbox inside the caller's transaction, in one statement (none: nothing). */
export async function insertOutboxEvents(conn: PoolConnection, events: readonly { subject: SubjectName; event: Envelope }[]): Promise<void> {
  if (events.length === 0) return
  const rows = events.map(({ subject, event }) => outboxRow(subject, event))
  await conn.query(
    `INSERT INTO outbox_events (id, subject, payload, trace_context) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`,
    rows.flatMap((r) => [r.id, r.subject, r.payload, r.traceContext]),
  )
}

/** Rewrites an event this transaction wrote to the outbox (same id), with what the transaction learnt after writing it. */
export async function rewriteOutboxEvent(conn: PoolConnection, { subject, event }: { subject: SubjectName; event: Envelope }): Promise<void> {
  await conn.query('UPDATE outbox_events SET payload = ? WHERE id = ?', [outboxRow(subject, event).payload, event.id])
}

export interface OutboxRelayOptions {
  pool: Pool
  bus: NatsBus
  log: FastifyBaseLogger
  batchSize?: number
  idleDelayMs?: number
  table?: string
}

export interface OutboxRelay {
  /** Publishes what is pending now (after a commit, so events leave at once rather than on the next poll). */
  kick(): void
  /** One pass; returns how many rows were published. Exposed for tests. */
  drainOnce(): Promise<number>
  stop(): Promise<void>
}

interface Row {
  id: string
  subject: string
  payload: string
  trace_context: string | null
}

export function startOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const table = opts.table ?? 'outbox_events'
  const batchSize = opts.batchSize ?? 100
  const idleDelayMs = opts.idleDelayMs ?? 250
  const log = opts.log.child({ component: 'outbox-relay' })
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false

  async function drainOnce(): Promise<number> {
    const conn = await opts.pool.getConnection()
    try {
      // READ COMMITTED: under REPEATABLE READ the locking scan takes gap locks on the unpublished
      // range, and every INSERT of a new event (inside a service's hot transaction) waits on them.
      await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED')
      await conn.beginTransaction()
      // SKIP LOCKED: several instances relay in parallel without publishing the same row twice at once.
      const rows = await conn.query<Row[]>(
        `SELECT id, subject, payload, trace_context FROM ${table} WHERE published_at IS NULL ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED`,
        [batchSize],
      )
      const published: string[] = []
      for (const row of rows) {
        try {
          const event = JSON.parse(row.payload) as Envelope
          if (!Value.Check(EnvelopeSchema, event)) throw new Error('outbox payload is not an event envelope')
          const carrier = row.trace_context ? (JSON.parse(row.trace_context) as Record<string, string>) : {}
          const parent = propagation.extract(ROOT_CONTEXT, carrier)
          await context.with(parent, () => publishEvent(opts.bus, row.subject as SubjectName, event, { timeoutMs: 2_000 }))
          published.push(row.id)
        } catch (err) {
          await conn.query(`UPDATE ${table} SET attempts = attempts + 1, last_error = ? WHERE id = ?`, [String((err as Error).message).slice(0, 500), row.id])
          log.warn({ err, eventId: row.id }, 'outbox publish failed, will retry')
          break
        }
      }
      if (published.length > 0) await conn.query(`UPDATE ${table} SET published_at = NOW(3) WHERE id IN (?)`, [published])
      await conn.commit()
      return published.length
    } catch (err) {
      await conn.rollback().catch(() => undefined)
      throw err
    } finally {
      await conn.release()
    }
  }

  async function loop() {
    while (!stopped) {
      let published = 0
      try {
        published = await drainOnce()
      } catch (err) {
        log.warn({ err }, 'outbox relay pass failed')
      }
      if (published === batchSize || again) {
        again = false
        continue
      }
      break
    }
  }

  function schedule(delay: number) {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(tick, delay)
    timer.unref()
  }

  // The relay is kicked from inside requests: without this its loop, and every timer it schedules,
  // would run in the kicking request's context, so its polling statements would join that request's
  // trace (and keep joining it on every idle poll), and wait for connections by that request's
  // deadline and claim. Each publish carries its row's own context.
  function tick() {
    context.with(ROOT_CONTEXT, () => outsideRequests(tickOutsideRequests))
  }

  function tickOutsideRequests() {
    if (running) {
      again = true
      return
    }
    running = loop().finally(() => {
      running = undefined
      schedule(idleDelayMs)
    })
  }

  schedule(0)
  return {
    kick: () => tick(),
    drainOnce,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}

/** Outbox backlog: rows not yet published, and the age of the oldest (alert when it grows). */
export function registerOutboxMetrics(registry: Registry, pool: Pool, table = 'outbox_events'): void {
  let cache: { at: number; pending: number; oldest: number } = { at: 0, pending: 0, oldest: 0 }
  async function read() {
    if (Date.now() - cache.at < 1_000) return cache
    const [row] = await pool.query<{ pending: bigint | number; oldest: Date | null }[]>(
      `SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM ${table} WHERE published_at IS NULL`,
    )
    cache = { at: Date.now(), pending: Number(row?.pending ?? 0), oldest: row?.oldest ? (Date.now() - row.oldest.getTime()) / 1000 : 0 }
    return cache
  }
  new Gauge({
    name: 'outbox_pending_events',
    help: 'Outbox rows not yet published to NATS',
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => cache)).pending)
    },
  })
  new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest unpublished outbox row',
    registers: [registry],
    async collect() {
      this.set((await read().catch(() => cache)).oldest)
    },
  })
}
