import { firesWithin, REDIS_RESUMES, resolvesWithin, type Incident } from './incident.js'
import { mariadbPing, pidFrom, redisCli, redisPong, resumeRedis } from './operator-tools.js'

/** What the runbook's dependency-down incidents share: the alert and its timing, and fast 503s meanwhile. */
const dependencyDown = (dependency: string) => ({
  runbook: 'dependency-down',
  alert: { name: 'DependencyDown', labels: { dependency } },
  expects503: true,
  alertWithinMs: firesWithin(60),
  resolveWithinMs: resolvesWithin(0),
})

// The runbook (dependency-down): the services reconnect by themselves once the dependency is back.
const RECONNECT = { withinMs: 10_000, why: 'runbook dependency-down: the services reconnect by themselves within 10 s of the dependency answering' }

/** The manual's dependency-down incidents (3.2.1, 3.3.1) and Redis out of memory (3.3.2). */
export const DEPENDENCY_INCIDENTS: Incident[] = [
  {
    id: '3.2.1-stopped',
    section: '3.2.1',
    title: 'MariaDB unreachable: the server is stopped',
    ...dependencyDown('database'),
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
    ...dependencyDown('database'),
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
    ...dependencyDown('redis'),
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
    recovery: REDIS_RESUMES,
  },
  {
    id: '3.3.1-paused',
    section: '3.3.1',
    title: 'Redis unreachable: the server hangs (SIGSTOP), commands get no answer',
    ...dependencyDown('redis'),
    async inject(ctx) {
      await ctx.stack.redis.pause()
      return `redis-server (port ${ctx.stack.redis.port}) paused with SIGSTOP`
    },
    mitigation: 'a hung Redis (`redis-cli ping` gets no answer, the process is there): `kill -CONT <pid>` if it was stopped, then `redis-cli ping`',
    mitigate: resumeRedis,
    recovery: REDIS_RESUMES,
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
