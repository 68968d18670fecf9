import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import type { DrillContext } from '../modes.js'
import { firesWithin, resolvesWithin, type Incident } from './incident.js'
import { mariadbExec, mariadbSession, metricsOf, promQuery, sample } from './operator-tools.js'

let lockHolder: ChildProcess | undefined

export const slowQuery: Incident = {
  id: '3.2.2',
  section: '3.2.2',
  title: 'A slow query: a long-held lock (a dump without --single-transaction holds LOCK TABLES seats READ)',
  runbook: 'slow-queries',
  alert: { name: 'LocksHeld', labels: { service: 'booking-service' } },
  expects503: true,
  alertWithinMs: firesWithin(300),
  resolveWithinMs: resolvesWithin(600),
  async inject(ctx) {
    await mariadbExec(ctx, "CREATE USER IF NOT EXISTS 'nightly_dump'@'127.0.0.1'; GRANT SELECT, LOCK TABLES ON tickets_booking.* TO 'nightly_dump'@'127.0.0.1'")
    // The session keeps its lock while its stdin stays open.
    lockHolder = mariadbSession(ctx, 'nightly_dump', 'LOCK TABLES seats READ;\n')
    await new Promise((r) => setTimeout(r, 500))
    return 'a session of user nightly_dump holds LOCK TABLES seats READ (reads go on; every write to seats is refused)'
  },
  async whileFiring(ctx) {
    const list = await mariadbExec(
      ctx,
      "SELECT id, user, command, time FROM information_schema.PROCESSLIST WHERE user NOT IN ('system user', 'event_scheduler') ORDER BY time DESC LIMIT 3",
    )
    return `the longest-lived sessions (id, user, command, seconds): ${list.output.split('\n').slice(1).join('; ')}`
  },
  mitigation: "`SHOW FULL PROCESSLIST` names the session that holds the lock (another user's, the oldest in `Sleep`); `KILL <its id>`",
  async mitigate(ctx) {
    const list = await mariadbExec(ctx, "SELECT id FROM information_schema.PROCESSLIST WHERE user = 'nightly_dump'")
    const id = Number(list.output.split('\n')[1])
    if (!(id > 0)) return { ok: false, detail: `no session of nightly_dump in the process list: ${list.output}` }
    const kill = await mariadbExec(ctx, `KILL ${id}`)
    // What the runbook promises: the table takes writes again. This needs the table for writing and
    // locks no row; while the dump's lock stands it gives up after its 1 s.
    const writable = await mariadbExec(ctx, 'SET SESSION lock_wait_timeout = 1; SELECT 1 FROM tickets_booking.seats WHERE FALSE FOR UPDATE')
    lockHolder?.kill()
    return {
      ok: kill.exitCode === 0 && writable.exitCode === 0,
      detail: `KILL ${id} exit ${kill.exitCode}; the seats table ${writable.exitCode === 0 ? 'takes writes again' : `still refuses writes: ${writable.output}`}`,
    }
  },
  recovery: { withinMs: 3_000, why: 'runbook slow-queries: no write waits for a table lock (MYSQL_TABLE_LOCK_WAIT_SECONDS 0), so the next one after the KILL goes through' },
}

const LINK_DELAY_MS = 150
// The gateway's longest deadline (a payment's, UPSTREAM_PAYMENT_TIMEOUT_MS): no answer may take longer.
const LONGEST_DEADLINE_MS = 8_000

export const slowResponses: Incident = {
  id: '3.1.2',
  section: '3.1.2',
  title: `Slow responses: the link to MariaDB adds ${LINK_DELAY_MS} ms to every answer`,
  runbook: 'slow-responses',
  alert: { name: 'SlowResponses' },
  expects503: false,
  hangMs: LONGEST_DEADLINE_MS,
  alertWithinMs: firesWithin(300),
  resolveWithinMs: resolvesWithin(300),
  async inject(ctx) {
    ctx.stack.mariadbLink.setDelay(LINK_DELAY_MS)
    return `every answer from MariaDB to the services delayed by ${LINK_DELAY_MS} ms on the link (a congested or re-routed network; MariaDB itself is as fast as ever)`
  },
  async whileFiring(ctx) {
    // The runbook's steps 1 and 2: which service is slow, then which hop inside it.
    const window = `${Math.max(10, Math.round(300 / ctx.mode.timeFactor))}s`
    const services = await promQuery(ctx, `histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[${window}])))`, 'service')
    const sql = await promQuery(ctx, `histogram_quantile(0.95, sum by (operation, le) (rate(db_query_duration_seconds_bucket[${window}])))`, 'operation')
    const running = await mariadbExec(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE command = 'Query' AND time >= 1")
    return `p95 by service: ${services}; SQL p95 by operation as the services time it: ${sql}; statements running 1 s or more inside MariaDB: ${running.output.split('\n')[1] ?? '?'} (so the time is spent between the services and the server)`
  },
  mitigation:
    'the slow hop is the database link (every SQL operation slow in the services, nothing slow inside MariaDB): its owner repairs or re-routes it (the drill takes the delay away), then a round trip is timed: `mariadb -e "SELECT 1"` through the link',
  async mitigate(ctx) {
    ctx.stack.mariadbLink.setDelay(0)
    const started = performance.now()
    const trip = await ctx.sh('mariadb', ['--host=127.0.0.1', `--port=${ctx.stack.mariadbLink.port}`, '--user=root', '--batch', '-e', 'SELECT 1'])
    const ms = performance.now() - started
    return { ok: trip.exitCode === 0 && ms < 250, detail: `link delay now ${ctx.stack.mariadbLink.delayMs()} ms; a connection and SELECT 1 through it took ${ms.toFixed(0)} ms` }
  },
  recovery: { withinMs: 5_000, why: 'runbook slow-responses: once the slow hop is fixed, answers are fast at once (nothing queued behind it)' },
}

const SMALL_POOL = 3
const RIGHT_POOL = 20
const BUSY_LINK_MS = 50

/** `db_pool_*` of each booking and payment instance's /metrics (the runbook's first step). */
async function poolMetrics(ctx: DrillContext): Promise<string> {
  const lines: string[] = []
  for (const [name, port] of [
    ['booking', ctx.stack.adminPorts.booking],
    ['payment', ctx.stack.adminPorts.payment],
  ] as const) {
    const text = await metricsOf(port)
    const pick = (metric: string, label?: string) => sample(text, metric, label) ?? '?'
    lines.push(
      `${name}: active ${pick('db_pool_connections', 'state="active"')}, idle ${pick('db_pool_connections', 'state="idle"')}, pending ${pick('db_pool_pending_requests')}, max ${pick('db_pool_max_connections')}`,
    )
  }
  return lines.join('; ')
}

export const poolExhausted: Incident = {
  id: '3.2.3',
  section: '3.2.3',
  title: `The connection pool exhausted: pools of ${SMALL_POOL} (the manual's old setting) when the database answers ${BUSY_LINK_MS} ms slower`,
  runbook: 'db-pool-exhausted',
  alert: { name: 'DbPoolSaturated' },
  expects503: true,
  env: () => ({ MYSQL_POOL_SIZE: String(SMALL_POOL) }),
  fans: () => 24,
  alertWithinMs: firesWithin(120),
  resolveWithinMs: resolvesWithin(0),
  async inject(ctx) {
    ctx.stack.mariadbLink.setDelay(BUSY_LINK_MS)
    return `every answer from MariaDB delayed by ${BUSY_LINK_MS} ms (a busy database host): each transaction holds its connection longer, and ${SMALL_POOL} connections per service no longer serve 24 fans`
  },
  whileFiring: async (ctx) => `\`curl -s <service admin port>/metrics | grep ^db_pool\`: ${await poolMetrics(ctx)}`,
  mitigation: `raise MYSQL_POOL_SIZE to ${RIGHT_POOL} (the manual's fix; a restart is needed): write it to each service's env file, then end the instance (\`pkill -f '<tag>/booking-1$'\`) for the supervisor to start it again with the file read`,
  async mitigate(ctx) {
    await mkdir(ctx.stack.serviceEnvDir, { recursive: true })
    const steps: string[] = []
    let ok = true
    for (const [dir, instance, port] of [
      ['booking-service', 'booking-1', ctx.stack.adminPorts.booking],
      ['payment-service', 'payment-1', ctx.stack.adminPorts.payment],
    ] as const) {
      await writeFile(join(ctx.stack.serviceEnvDir, `${dir}.env`), `MYSQL_POOL_SIZE=${RIGHT_POOL}\n`)
      const end = await ctx.sh('pkill', ['-TERM', '-f', `${ctx.stack.tag}/${instance}$`])
      const started = Date.now()
      let max: string | undefined
      while (Date.now() - started < 30_000) {
        max = sample(await metricsOf(port), 'db_pool_max_connections')
        if (max === String(RIGHT_POOL)) break
        await new Promise((r) => setTimeout(r, 200))
      }
      ok &&= end.exitCode === 0 && max === String(RIGHT_POOL)
      steps.push(`${instance}: pkill exit ${end.exitCode}, back with db_pool_max_connections ${max || 'unknown'} after ${((Date.now() - started) / 1000).toFixed(1)} s`)
    }
    return { ok, detail: `${steps.join('; ')}; now ${await poolMetrics(ctx)}` }
  },
  recovery: { withinMs: 20_000, why: 'runbook db-pool-exhausted: each instance restarted with the bigger pool is ready within 10 s, one after the other' },
}
