import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { DrillContext, DrillMode } from './run.js'

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
  scale?: Record<string, number>
  env?(mode: DrillMode): Record<string, string>
  fans?(mode: DrillMode): number
  alertWithinMs(mode: DrillMode): number
  resolveWithinMs(mode: DrillMode): number
  /** Breaks something; returns what it did, in words. */
  inject(ctx: DrillContext): Promise<string>
  /** Diagnosis once the alert fires (the runbook's first steps); returns what it found. */
  whileFiring?(ctx: DrillContext): Promise<string | undefined>
  /** The runbook's mitigation, as the report names it. */
  mitigation: string
  /** Runs it for real and says whether it did what the runbook says. */
  mitigate(ctx: DrillContext): Promise<{ ok: boolean; detail: string }>
  recovery: { withinMs: number; why: string }
}

/** Time for an alert with this `for:` to be seen firing: the compressed `for:` plus a few scrapes and evaluations. */
const firesWithin = (forSeconds: number) => (mode: DrillMode) => (forSeconds / mode.timeFactor + 8 * mode.scrapeSeconds + 15) * 1_000
const resolvesWithin = (windowSeconds: number) => (mode: DrillMode) => (windowSeconds / mode.timeFactor + 8 * mode.scrapeSeconds + 15) * 1_000

async function pidFrom(file: string): Promise<number> {
  const pid = Number((await readFile(file, 'utf8')).trim())
  if (!(pid > 0)) throw new Error(`no pid in ${file}`)
  return pid
}

const redisCli = (ctx: DrillContext, ...args: string[]) => ctx.sh('redis-cli', ['-h', '127.0.0.1', '-p', String(ctx.stack.redis.port), ...args])

async function redisPong(ctx: DrillContext) {
  const ping = await redisCli(ctx, 'ping')
  return { ok: ping.exitCode === 0 && ping.output === 'PONG', detail: `redis-cli ping answered "${ping.output}"` }
}

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
      ctx.stack.mariadb.pause()
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
      ctx.stack.redis.pause()
      return `redis-server (port ${ctx.stack.redis.port}) paused with SIGSTOP`
    },
    mitigation: 'a hung Redis (`redis-cli ping` gets no answer, the process is there): `kill -CONT <pid>` if it was stopped, then `redis-cli ping`',
    async mitigate(ctx) {
      const cont = await ctx.sh('kill', ['-CONT', String(await pidFrom(ctx.stack.redis.pidFile))])
      const pong = await redisPong(ctx)
      return { ok: cont.exitCode === 0 && pong.ok, detail: `kill -CONT exit ${cont.exitCode}; ${pong.detail}` }
    },
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
  alert: { name: 'SlowQueries', labels: { service: 'booking-service' } },
  expects503: false,
  alertWithinMs: firesWithin(300),
  resolveWithinMs: resolvesWithin(600),
  async inject(ctx) {
    await mariadbExec(ctx, "CREATE USER IF NOT EXISTS 'nightly_dump'@'127.0.0.1'; GRANT SELECT, LOCK TABLES ON tickets_booking.* TO 'nightly_dump'@'127.0.0.1'")
    // The session keeps its lock while its stdin stays open.
    lockHolder = mariadbSession(ctx, 'nightly_dump', 'LOCK TABLES seats READ;\n')
    await new Promise((r) => setTimeout(r, 500))
    return 'a session of user nightly_dump holds LOCK TABLES seats READ (reads go on; every write to seats waits for it)'
  },
  async whileFiring(ctx) {
    const list = await mariadbExec(ctx, 'SHOW FULL PROCESSLIST')
    const waiting = list.output.split('\n').filter((l) => /Waiting for table/i.test(l)).length
    return `SHOW FULL PROCESSLIST: ${waiting} statements waiting for the table lock`
  },
  mitigation: '`SHOW FULL PROCESSLIST` names the session that holds the lock (statements wait for "table metadata lock"); `KILL <its id>`',
  async mitigate(ctx) {
    const list = await mariadbExec(ctx, "SELECT id FROM information_schema.PROCESSLIST WHERE user = 'nightly_dump'")
    const id = Number(list.output.split('\n')[1])
    if (!(id > 0)) return { ok: false, detail: `no session of nightly_dump in the process list: ${list.output}` }
    const kill = await mariadbExec(ctx, `KILL ${id}`)
    const after = await mariadbExec(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE state LIKE 'Waiting for table%'")
    lockHolder?.kill()
    const waiting = Number(after.output.split('\n')[1])
    return { ok: kill.exitCode === 0 && waiting === 0, detail: `KILL ${id} exit ${kill.exitCode}; ${waiting} statements still waiting for a table lock` }
  },
  recovery: { withinMs: 3_000, why: 'runbook slow-queries: no statement runs longer than MYSQL_STATEMENT_TIMEOUT_MS (3 s), so the last one waiting ends within 3 s' },
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
    const url = `http://127.0.0.1:${ctx.stack.ports.booking + 10}/health/ready`
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

export function findIncidents(name: string): Incident[] {
  if (name === 'all') return [...INCIDENTS].sort((a, b) => a.section.localeCompare(b.section))
  const found = INCIDENTS.filter((i) => i.id === name || i.section === name)
  return found
}
