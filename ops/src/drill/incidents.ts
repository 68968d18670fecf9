import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Check, DrillContext, DrillMode } from './modes.js'
import { repoRoot } from './stack.js'

export interface Incident {
  /** The manual's number plus a variant: `3.2.1-stopped`. */
  id: string
  section: string
  title: string
  /** The docs/runbook.md section (anchor) whose steps the drill follows. */
  runbook: string
  alert: { name: string; labels?: Record<string, string> }
  /** The fault is in a dependency: requests that need it must get a fast 503 with Retry-After. */
  expects503: boolean
  /**
   * When slowness is the incident itself (3.1.2), an answer is a hang only past this (the gateway's
   * upstream deadline) instead of the mode's bound.
   */
  hangMs?: number
  scale?: Record<string, number>
  env?(mode: DrillMode): Record<string, string>
  fans?(mode: DrillMode): number
  /** Storm clients who join and leave the line over and over (see the probe). */
  joiners?(mode: DrillMode): number
  readers?(mode: DrillMode): number
  /** Steady traffic before the fault, when the alert needs more history than the mode's calm period. */
  calmMs?(mode: DrillMode): number
  alertWithinMs(mode: DrillMode): number
  resolveWithinMs(mode: DrillMode): number
  /** Breaks something; returns what it did, in words. */
  inject(ctx: DrillContext): Promise<string>
  /** Diagnosis once the alert fires (the runbook's first steps); returns what it found. */
  whileFiring?(ctx: DrillContext): Promise<string | undefined>
  /** The runbook's mitigation, as the report names it. */
  mitigation: string
  /**
   * Runs it for real and says whether it did what the runbook says; `fixedAt`, when the cause was
   * removed after other steps (recovery counts from there; else from the mitigation's start).
   */
  mitigate(ctx: DrillContext): Promise<{ ok: boolean; detail: string; fixedAt?: number }>
  recovery: { withinMs: number; why: string }
  /** Checks of the incident's own, once the probe stopped (a load run's verdict, say). */
  finish?(ctx: DrillContext): Promise<Check[]>
}

/** Time for an alert with this `for:` to be seen firing: the compressed `for:` plus a few scrapes and evaluations. */
const firesWithin = (forSeconds: number) => (mode: DrillMode) => (forSeconds / mode.timeFactor + 8 * mode.scrapeSeconds + 15) * 1_000
const resolvesWithin = (windowSeconds: number) => (mode: DrillMode) => (windowSeconds / mode.timeFactor + 8 * mode.scrapeSeconds + 15) * 1_000

async function pidFrom(file: string): Promise<number> {
  const pid = Number((await readFile(file, 'utf8')).trim())
  if (!(pid > 0)) throw new Error(`no pid in ${file}`)
  return pid
}

// As the runbook types it: a hung Redis never answers, so no redis-cli waits longer than 2 s.
const redisCli = (ctx: DrillContext, ...args: string[]) => ctx.sh('timeout', ['2', 'redis-cli', '-h', '127.0.0.1', '-p', String(ctx.stack.redis.port), ...args])

async function redisPong(ctx: DrillContext) {
  const ping = await redisCli(ctx, 'ping')
  return { ok: ping.exitCode === 0 && ping.output === 'PONG', detail: `redis-cli ping answered "${ping.output}"` }
}

/** The runbook's step for a hung Redis: `kill -CONT <pid>`, then `redis-cli ping`; `fixedAt`, when it was resumed. */
async function resumeRedis(ctx: DrillContext) {
  const cont = await ctx.sh('kill', ['-CONT', String(await pidFrom(ctx.stack.redis.pidFile))])
  const fixedAt = Date.now()
  const pong = await redisPong(ctx)
  return { ok: cont.exitCode === 0 && pong.ok, detail: `kill -CONT exit ${cont.exitCode}; ${pong.detail}`, fixedAt }
}

/** A service instance's /metrics (on its admin port) as text ('' when it does not answer), and one sample of it. */
const metricsOf = (port: number) =>
  fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  )
const sample = (text: string, name: string, label = '') => new RegExp(`^${name}(?:\\{[^}]*${label}[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1]

async function mariadbPing(ctx: DrillContext) {
  // --wait: retry the connection while the server starts.
  const ping = await ctx.sh('mariadb-admin', ['--host=127.0.0.1', `--port=${ctx.stack.mariadb.port}`, '--user=root', '--wait=30', '--connect-timeout=2', 'ping'])
  return { ok: ping.exitCode === 0 && ping.output.includes('mysqld is alive'), detail: `mariadb-admin ping answered "${ping.output}"` }
}

const dependencyDown = (dependency: string) => ({ name: 'DependencyDown', labels: { dependency } })

// The runbook (dependency-down): the services reconnect by themselves once the dependency is back.
const RECONNECT = { withinMs: 10_000, why: 'runbook dependency-down: the services reconnect by themselves within 10 s of the dependency answering' }

export const INCIDENTS: Incident[] = [
  {
    id: '3.2.1-stopped',
    section: '3.2.1',
    title: 'MariaDB unreachable: the server is stopped',
    runbook: 'dependency-down',
    alert: dependencyDown('database'),
    expects503: true,
    alertWithinMs: firesWithin(60),
    resolveWithinMs: resolvesWithin(0),
    async inject(ctx) {
      await ctx.stack.mariadb.stop()
      return `mariadbd (port ${ctx.stack.mariadb.port}) stopped with SIGTERM`
    },
    mitigation: "start MariaDB again with start-stop-daemon (the runbook's command, given this instance's pid file and options), then `mariadb-admin ping`",
    async mitigate(ctx) {
      const { mariadb } = ctx.stack
      const start = await ctx.sh('start-stop-daemon', ['--start', '--oknodo', '--background', '--pidfile', mariadb.pidFile, '--exec', mariadb.binary, '--', ...mariadb.args])
      const ping = await mariadbPing(ctx)
      return { ok: start.exitCode === 0 && ping.ok, detail: `start-stop-daemon exit ${start.exitCode}; ${ping.detail}` }
    },
    recovery: RECONNECT,
  },
  {
    id: '3.2.1-paused',
    section: '3.2.1',
    title: 'MariaDB unreachable: the server hangs (SIGSTOP), connections open but nothing answers',
    runbook: 'dependency-down',
    alert: dependencyDown('database'),
    expects503: true,
    alertWithinMs: firesWithin(60),
    resolveWithinMs: resolvesWithin(0),
    async inject(ctx) {
      await ctx.stack.mariadb.pause()
      return `mariadbd (port ${ctx.stack.mariadb.port}) paused with SIGSTOP`
    },
    mitigation: 'a hung server (`mariadb-admin ping` gets no answer, the process is there): `kill -CONT <pid>` if it was stopped, then `mariadb-admin ping`',
    async mitigate(ctx) {
      const pid = await pidFrom(ctx.stack.mariadb.pidFile)
      const cont = await ctx.sh('kill', ['-CONT', String(pid)])
      const ping = await mariadbPing(ctx)
      return { ok: cont.exitCode === 0 && ping.ok, detail: `kill -CONT exit ${cont.exitCode}; ${ping.detail}` }
    },
    recovery: RECONNECT,
  },
  {
    id: '3.3.1-killed',
    section: '3.3.1',
    title: 'Redis unreachable: the server is killed (SIGKILL), its data gone',
    runbook: 'dependency-down',
    alert: dependencyDown('redis'),
    expects503: true,
    alertWithinMs: firesWithin(60),
    resolveWithinMs: resolvesWithin(0),
    async inject(ctx) {
      const pid = await pidFrom(ctx.stack.redis.pidFile)
      process.kill(pid, 'SIGKILL')
      return `redis-server (port ${ctx.stack.redis.port}, pid ${pid}) killed with SIGKILL`
    },
    mitigation: "`redis-server --daemonize yes ...` (the runbook's command, with this instance's port and pid file), then `redis-cli ping`",
    async mitigate(ctx) {
      const { redis } = ctx.stack
      const start = await ctx.sh('redis-server', [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '--port',
        String(redis.port),
        '--save',
        '',
        '--appendonly',
        'no',
        '--pidfile',
        redis.pidFile,
      ])
      await new Promise((r) => setTimeout(r, 300))
      const pong = await redisPong(ctx)
      return { ok: start.exitCode === 0 && pong.ok, detail: `redis-server exit ${start.exitCode}; ${pong.detail}` }
    },
    recovery: { withinMs: 5_000, why: 'runbook dependency-down: everything resumes by itself within 5 s of Redis answering' },
  },
  {
    id: '3.3.1-paused',
    section: '3.3.1',
    title: 'Redis unreachable: the server hangs (SIGSTOP), commands get no answer',
    runbook: 'dependency-down',
    alert: dependencyDown('redis'),
    expects503: true,
    alertWithinMs: firesWithin(60),
    resolveWithinMs: resolvesWithin(0),
    async inject(ctx) {
      await ctx.stack.redis.pause()
      return `redis-server (port ${ctx.stack.redis.port}) paused with SIGSTOP`
    },
    mitigation: 'a hung Redis (`redis-cli ping` gets no answer, the process is there): `kill -CONT <pid>` if it was stopped, then `redis-cli ping`',
    mitigate: resumeRedis,
    recovery: { withinMs: 5_000, why: 'runbook dependency-down: everything resumes by itself within 5 s of Redis answering' },
  },
  {
    id: '3.3.2',
    section: '3.3.2',
    title: 'Redis out of memory: maxmemory reached, writes refused',
    runbook: 'redis-memory',
    alert: { name: 'RedisMemoryHigh' },
    expects503: true,
    alertWithinMs: firesWithin(120),
    resolveWithinMs: resolvesWithin(0),
    async inject(ctx) {
      const info = await redisCli(ctx, 'info', 'memory')
      const used = Number(/used_memory:(\d+)/.exec(info.output)?.[1])
      if (!(used > 0)) throw new Error(`redis-cli info memory gave no used_memory: ${info.output}`)
      // maxmemory at what Redis uses now: reached, so every write that needs memory is refused (noeviction).
      const max = used
      await redisCli(ctx, 'config', 'set', 'maxmemory-policy', 'noeviction')
      const set = await redisCli(ctx, 'config', 'set', 'maxmemory', String(max))
      if (set.exitCode !== 0) throw new Error(`config set maxmemory failed: ${set.output}`)
      return `Redis maxmemory set to ${max} bytes, its used_memory at that moment (policy noeviction)`
    },
    mitigation: 'raise maxmemory: `redis-cli CONFIG SET maxmemory 1gb` (keeping noeviction), then `redis-cli INFO memory`',
    async mitigate(ctx) {
      const set = await redisCli(ctx, 'config', 'set', 'maxmemory', '1gb')
      const info = await redisCli(ctx, 'info', 'memory')
      const max = Number(/^maxmemory:(\d+)/m.exec(info.output)?.[1])
      const used = Number(/^used_memory:(\d+)/m.exec(info.output)?.[1])
      return { ok: set.exitCode === 0 && max === 1024 ** 3 && used / max < 0.8, detail: `maxmemory now ${max} bytes, used_memory ${used} (${((100 * used) / max).toFixed(2)}%)` }
    },
    recovery: { withinMs: 5_000, why: 'runbook redis-memory: writes are taken again at once once maxmemory is raised' },
  },
]

/** A client session of the drill's own, as an operator's or a batch job's would be. */
function mariadbSession(ctx: DrillContext, user: string, sql: string): ChildProcess {
  const child = spawn('mariadb', ['--host=127.0.0.1', `--port=${ctx.stack.mariadb.port}`, `--user=${user}`, 'tickets_booking'], { stdio: ['pipe', 'ignore', 'ignore'] })
  child.stdin!.write(sql)
  return child
}
const mariadbExec = (ctx: DrillContext, sql: string) => ctx.sh('mariadb', ['--host=127.0.0.1', `--port=${ctx.stack.mariadb.port}`, '--user=root', '--batch', '-e', sql])
let lockHolder: ChildProcess | undefined

const slowQuery: Incident = {
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
INCIDENTS.push(slowQuery)

const instanceDown: Incident = {
  id: '3.1.1',
  section: '3.1.1',
  title: 'An instance down: booking-2 (of 2) killed under load again and again until the supervisor leaves it down',
  runbook: 'service-down',
  alert: { name: 'ServiceDown', labels: { job: 'booking-service' } },
  expects503: false,
  scale: { booking: 2 },
  alertWithinMs: firesWithin(60),
  resolveWithinMs: resolvesWithin(0),
  async inject(ctx) {
    const given = () => ctx.stack.output.some((l) => l.includes('booking-2 exited') && l.includes('leaving it down'))
    let kills = 0
    const deadline = Date.now() + 90_000
    while (!given() && Date.now() < deadline) {
      const [pid] = await ctx.stack.pidsOf('booking-2')
      if (pid) {
        process.kill(pid, 'SIGKILL')
        kills++
      }
      await new Promise((r) => setTimeout(r, 200))
    }
    if (!given()) throw new Error(`the supervisor did not leave booking-2 down after ${kills} kills`)
    return `booking-2 killed with SIGKILL ${kills} times, each time it came back; the supervisor left it down ("${ctx.stack.output.find((l) => l.includes('booking-2 exited') && l.includes('leaving it down'))}")`
  },
  mitigation: "once the cause is fixed, `kill -HUP <npm start pid>` starts the instances left down again (the pid is in npm start's banner)",
  async mitigate(ctx) {
    const hup = await ctx.sh('kill', ['-HUP', String(ctx.stack.supervisorPid)])
    const url = `http://127.0.0.1:${ctx.stack.adminPorts.booking + 10}/health/ready`
    const started = Date.now()
    let ready = false
    while (!ready && Date.now() - started < 30_000) {
      ready = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.ok,
        () => false,
      )
      if (!ready) await new Promise((r) => setTimeout(r, 200))
    }
    const line = ctx.stack.output.find((l) => l.includes('booking-2 started again'))
    return {
      ok: hup.exitCode === 0 && ready && line !== undefined,
      detail: `kill -HUP exit ${hup.exitCode}; npm start said "${line ?? 'nothing'}"; booking-2 ${ready ? `ready ${((Date.now() - started) / 1000).toFixed(1)} s later` : 'not ready after 30 s'}`,
    }
  },
  recovery: { withinMs: 15_000, why: 'runbook service-down: an instance started again is ready within 15 s' },
}
INCIDENTS.push(instanceDown)

const tokenRouteErrors: Incident = {
  id: '3.1.3',
  section: '3.1.3',
  title: 'Token-route errors: Redis hangs (SIGSTOP) during a join storm',
  runbook: 'token-route-errors',
  alert: { name: 'TokenRouteErrors' },
  expects503: true,
  joiners: () => 20,
  alertWithinMs: firesWithin(60),
  resolveWithinMs: resolvesWithin(300),
  async inject(ctx) {
    await ctx.stack.redis.pause()
    return `redis-server (port ${ctx.stack.redis.port}) paused with SIGSTOP while 20 storm clients join and leave the line`
  },
  async whileFiring(ctx) {
    const stats = await redisCli(ctx, 'INFO', 'stats')
    return `timeout 2 redis-cli INFO stats: ${stats.exitCode === 0 ? 'answered' : `no answer within 2 s (exit ${stats.exitCode})`}`
  },
  mitigation:
    'the token limit first (`npm run ops -- gateway:token-limit 5`), then Redis: `redis-cli ping` gets no answer and the process is there, so `kill -CONT <pid>`; the token limit again once Redis answers, and `npm run ops -- gateway:switches`',
  async mitigate(ctx) {
    // The switches live in Redis: while it hangs the gateway refuses the change, and says so.
    const early = await ctx.ops(['gateway:token-limit', '5'])
    const resumed = await resumeRedis(ctx)
    const limit = await ctx.ops(['gateway:token-limit', '5'])
    const shown = await ctx.ops(['gateway:switches'])
    const applied = shown.exitCode === 0 && shown.output.includes('5/s per address')
    return {
      fixedAt: resumed.fixedAt,
      ok: resumed.ok && limit.exitCode === 0 && applied,
      detail: `token limit while Redis hung: exit ${early.exitCode} (${early.output.split('\n')[0]}); ${resumed.detail}; token limit after: exit ${limit.exitCode}; gateway:switches says "${shown.output}"`,
    }
  },
  recovery: { withinMs: 5_000, why: 'runbook dependency-down: everything resumes by itself within 5 s of Redis answering' },
}
INCIDENTS.push(tokenRouteErrors)

/** The opening day's crowd: `npm run load -- ticket-open` (the Node runner) against the drill's gateway. */
const SPIKE = { users: 1_000, rampSeconds: 20 }
let spike: { child: ChildProcess; out: string; exited: Promise<number>; concertId: string } | undefined

const trafficSpike: Incident = {
  id: '3.4.1',
  section: '3.4.1',
  title: `The ticket-opening spike: ${SPIKE.users} fans arrive for a new concert within ${SPIKE.rampSeconds} s`,
  runbook: 'ticket-opening',
  alert: { name: 'TrafficSpike' },
  expects503: false,
  // The runbook: abandoned holds end sooner with a shorter HOLD_TTL_SECONDS; the fast drill's crowd
  // then does not wait five minutes for the last of them.
  env: (mode): Record<string, string> => (mode.timeFactor > 1 ? { HOLD_TTL_SECONDS: '60' } : {}),
  // A quiet usual under the alert's floor of 10 requests a second (two fans buying, nobody browsing),
  // so that only the opening can fire it.
  fans: () => 2,
  readers: () => 0,
  // The alert compares with the rate of the hour before the last ten minutes: that history must exist.
  calmMs: (mode) => ((10 * 60) / mode.timeFactor + 20) * 1_000,
  alertWithinMs: firesWithin(60 + 2 * 60),
  resolveWithinMs: (mode) => SPIKE.rampSeconds * 1_000 + resolvesWithin(2 * 60)(mode),
  async inject(ctx) {
    const out = await mkdtemp(join(tmpdir(), 'tickets-drill-spike-'))
    const args = ['loadtest/dist/runner/cli.js', 'ticket-open', '--users', String(SPIKE.users), '--ramp', `${SPIKE.rampSeconds}s`]
    args.push('--base-url', ctx.stack.gateway, '--metrics', '', '--warmup', '0', '--no-reconcile', '--out', out)
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...ctx.stack.opsEnv }, stdio: ['ignore', 'ignore', 'pipe'] })
    const lines: string[] = []
    child.stderr!.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)))
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)))
    const started = Date.now()
    const onSale = () => lines.map((l) => /concert (\S+) put on sale/.exec(l)?.[1]).find(Boolean)
    while (!onSale() && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 100))
    const concertId = onSale()
    if (!concertId) throw new Error(`the load run put no concert on sale within 30 s: ${lines.slice(-5).join(' | ')}`)
    spike = { child, out, exited, concertId }
    return `\`npm run load -- ${args.slice(1).join(' ')}\` started, for concert ${concertId}`
  },
  mitigation:
    "the runbook's during-the-opening steps: `npm run ops -- queue:status <concertId>` (the line holds the crowd), then the non-core ranking off: `npm run ops -- gateway:ranking off`; it goes on again after the spike",
  async mitigate(ctx) {
    const status = await ctx.ops(['queue:status', spike?.concertId ?? ''])
    // queue:status prints the line as one JSON object.
    const line = (() => {
      try {
        return JSON.parse(status.output.split('\n').at(-1) ?? '') as { waiting?: number; limitedBy?: string }
      } catch {
        return undefined
      }
    })()
    const off = await ctx.ops(['gateway:ranking', 'off'])
    // Every gateway reads the switches every SWITCH_CACHE_MS (500 ms): the runbook's "within a second".
    const rankingStatus = () =>
      fetch(`${ctx.stack.gateway}/api/concerts/ranking`, { headers: { 'x-forwarded-for': '10.80.0.1' }, signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status,
        () => 0,
      )
    const offBy = Date.now() + 1_000
    let ranking = await rankingStatus()
    while (ranking === 200 && Date.now() < offBy) {
      await new Promise((r) => setTimeout(r, 100))
      ranking = await rankingStatus()
    }
    return {
      ok: status.exitCode === 0 && line?.limitedBy !== undefined && off.exitCode === 0 && off.output.includes('ranking off') && ranking !== 200,
      detail: `queue:status exit ${status.exitCode}: ${line ? `${line.waiting} waiting, limited by ${line.limitedBy}` : 'no status'} (${status.output}); gateway:ranking off: "${off.output}"; GET /api/concerts/ranking then answered ${ranking}`,
    }
  },
  recovery: { withinMs: 10_000, why: 'runbook ticket-opening: the line protects the booking tier by itself, so the fans already buying go on buying' },
  async finish(ctx) {
    await ctx.ops(['gateway:ranking', 'on'])
    if (!spike) return [{ name: 'the spike ran', ok: false, detail: 'no load run' }]
    const { child, out, exited } = spike
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000)
    const code = await exited
    clearTimeout(timer)
    const file = (await readdir(out)).find((f) => f.endsWith('.json'))
    const report = file ? (JSON.parse(await readFile(join(out, file), 'utf8')) as SpikeReport) : undefined
    const unexpected = report?.unexpected
    return [
      {
        name: "the spike's own fans got no unexpected answer (no 5xx but shed 503s, no lost request)",
        ok: report !== undefined && unexpected === 0,
        detail: report
          ? `load run exit ${code}: ${report.requests} requests, ${unexpected} unexpected, ${report.expectedRejections} expected rejections; ${report.sold} seats sold in ${Math.round(report.durationSeconds)} s`
          : `no report (exit ${code})`,
      },
    ]
  },
}
INCIDENTS.push(trafficSpike)

/** What the Node runner's JSON report says (loadtest/src/runner/report.ts). */
interface SpikeReport {
  durationSeconds: number
  requests: number
  unexpected: number
  expectedRejections: number
  sold: number
}

const LINK_DELAY_MS = 150
// The gateway's longest deadline (a payment's, UPSTREAM_PAYMENT_TIMEOUT_MS): no answer may take longer.
const LONGEST_DEADLINE_MS = 8_000

/** Prometheus' answer to an instant query, as `label=value: number` lines. */
async function promQuery(ctx: DrillContext, expr: string, label: string): Promise<string> {
  const res = await fetch(`${ctx.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5_000) })
  const body = (await res.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } }
  return (body.data?.result ?? []).map((r) => `${r.metric[label] ?? '?'} ${(Number(r.value[1]) * 1000).toFixed(0)} ms`).join(', ')
}

const slowResponses: Incident = {
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
INCIDENTS.push(slowResponses)

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

const poolExhausted: Incident = {
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
INCIDENTS.push(poolExhausted)

export function findIncidents(name: string): Incident[] {
  if (name === 'all') return [...INCIDENTS].sort((a, b) => a.section.localeCompare(b.section))
  const found = INCIDENTS.filter((i) => i.id === name || i.section === name)
  return found
}
