// The system as `npm start` runs it, for the benchmarks: `scripts/start.mjs` itself (its log level,
// shedding, telemetry registration, heap and malloc settings, supervision and however it handles the
// processes' output), on its own ports, databases, Redis prefix and NATS namespace. And the CPU time
// of every process that serves a request: start.mjs and its children, Redis, MariaDB, NATS.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'

export const root = fileURLToPath(new URL('../../', import.meta.url))

// Instance i of a service listens on its base port + 10·i (start.mjs), so base ports leave room:
// public ports at base + 0..3, admin ports at base + 4..7, for each of 8 instances.
async function freeBase() {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const ports = Array.from({ length: 8 }, (_, i) => [base + 10 * i, base + 10 * i + 4]).flat()
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base
  }
}

function isFree(port) {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** Parent pid and CPU milliseconds (user + system) of a process, from /proc; null when it is gone. */
function stat(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return { ppid: Number(fields[1]), cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 }
  } catch {
    return null
  }
}

function commandOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return []
  }
}

/** `pid` and every process below it. */
export function processTree(pid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const s = stat(Number(entry))
    if (!s) continue
    if (!children.has(s.ppid)) children.set(s.ppid, [])
    children.get(s.ppid).push(Number(entry))
  }
  const all = []
  const queue = [pid]
  while (queue.length) {
    const p = queue.shift()
    all.push(p)
    queue.push(...(children.get(p) ?? []))
  }
  return all
}

function pidOfCommand(pattern) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmd = commandOf(Number(entry))
    if (cmd[0] && pattern.test(cmd[0])) return Number(entry)
  }
  return null
}

/**
 * Starts `node scripts/start.mjs [--scale …]` with `env` on top of the bench's own names, waits until
 * the gateway says every instance is ready, and returns its URLs and a CPU meter.
 */
export async function startStack({ scale = {}, env = {}, output } = {}) {
  const run = randomBytes(3).toString('hex')
  const base = await freeBase()
  const mysql = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'
  const dbUrl = (name) => {
    const u = new URL(mysql)
    u.pathname = `/${name}`
    return u.toString()
  }
  const names = {
    secret: randomBytes(24).toString('hex'),
    redisPrefix: `bench:${run}:`,
    natsNamespace: `bench_${run}`,
    bookingDb: dbUrl(`bench_booking_${run}`),
    paymentDb: dbUrl(`bench_payment_${run}`),
  }
  const ports = { gateway: base, queue: base + 1, booking: base + 2, payment: base + 3 }
  const adminPorts = { gateway: base + 4, queue: base + 5, booking: base + 6, payment: base + 7 }
  const args = ['scripts/start.mjs', ...Object.entries(scale).flatMap(([name, n]) => ['--scale', `${name}=${n}`])]
  // Where the stack's output goes, as a user's `npm start > start.log` would: a file, not a pipe the bench reads.
  const out = openSync(output ?? `/tmp/bench-stack-${run}.log`, 'a')
  const child = spawn(process.execPath, args, {
    cwd: root,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      AUTH_JWT_SECRET: names.secret,
      REDIS_PREFIX: names.redisPrefix,
      NATS_NAMESPACE: names.natsNamespace,
      BOOKING_MYSQL_URL: names.bookingDb,
      PAYMENT_MYSQL_URL: names.paymentDb,
      GATEWAY_PORT: String(ports.gateway),
      QUEUE_PORT: String(ports.queue),
      BOOKING_PORT: String(ports.booking),
      PAYMENT_PORT: String(ports.payment),
      GATEWAY_ADMIN_PORT: String(adminPorts.gateway),
      QUEUE_ADMIN_PORT: String(adminPorts.queue),
      BOOKING_ADMIN_PORT: String(adminPorts.booking),
      PAYMENT_ADMIN_PORT: String(adminPorts.payment),
      // Many fans from one machine: their address comes from X-Forwarded-For, as the README says for load tests.
      TRUSTED_PROXIES: '127.0.0.0/8',
      ...env,
    },
  })
  let exited = false
  child.on('exit', () => {
    exited = true
  })
  const gateway = `http://127.0.0.1:${ports.gateway}`
  const deadline = Date.now() + 180_000
  for (;;) {
    if (exited) throw new Error(`npm start exited before it was ready: see ${output ?? `/tmp/bench-stack-${run}.log`}`)
    if (
      await fetch(`http://127.0.0.1:${adminPorts.gateway}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break
    if (Date.now() > deadline) throw new Error('npm start not ready after 180 s')
    await new Promise((r) => setTimeout(r, 500))
  }

  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true })
  await redis.connect()
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]) || null
  const infra = { redis: redisPid, mariadb: await mariadbPid(names.bookingDb), nats: pidOfCommand(/nats-server$/) }

  /** Every process of the stack now, by name: start.mjs, each service instance, and the infrastructure. */
  function processes() {
    const byName = {}
    for (const pid of processTree(child.pid)) {
      let name = 'start.mjs'
      if (pid !== child.pid) name = /\/(gateway|queue-service|booking-service|payment-service)$/.exec(cwdOf(pid))?.[1] ?? commandOf(pid)[0]?.split('/').pop() ?? String(pid)
      let unique = name
      for (let i = 2; unique in byName; i++) unique = `${name}-${i}`
      byName[unique] = pid
    }
    for (const [name, pid] of Object.entries(infra)) if (pid && stat(pid)) byName[name] = pid
    return byName
  }

  return {
    gateway,
    names,
    ports,
    adminPorts,
    processes,
    /** CPU ms of each process so far; call before and after a run and take `cpuPerRequest`. */
    cpu() {
      return Object.fromEntries(Object.entries(processes()).map(([name, pid]) => [name, stat(pid)?.cpuMs ?? null]))
    },
    async stop() {
      await new Promise((resolve) => {
        if (exited) return resolve()
        child.once('exit', resolve)
        child.kill('SIGINT')
      })
      const keys = []
      for await (const batch of redis.scanStream({ match: `${names.redisPrefix}*`, count: 1_000 })) keys.push(...batch)
      for (let i = 0; i < keys.length; i += 1_000) await redis.del(...keys.slice(i, i + 1_000))
      await redis.quit()
      const { dropDatabase } = await import('@tickets/shared/migrate')
      await Promise.all([dropDatabase(names.bookingDb), dropDatabase(names.paymentDb)]).catch(() => undefined)
      const { connectNats } = await import('@tickets/shared/nats')
      const bus = await connectNats({ url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'bench', namespace: names.natsNamespace })
      for (const s of ['BOOKING_EVENTS', 'PAYMENT_EVENTS', 'DEAD_LETTERS']) await bus.jsm.streams.delete(bus.names.stream(s)).catch(() => undefined)
      await bus.close()
    },
  }
}

/** The directory a process runs in (each service instance runs in its package's). */
function cwdOf(pid) {
  try {
    return readlinkSync(`/proc/${pid}/cwd`)
  } catch {
    return ''
  }
}

/** The pid of the MariaDB server the stack uses (throw-away test servers may run beside it). */
async function mariadbPid(url) {
  const { createPool } = await import('@tickets/shared/mysql')
  const pool = createPool({ url, connectionLimit: 1, acquireTimeoutMs: 5_000 })
  try {
    const [row] = await pool.query('SELECT @@pid_file AS file')
    return Number(readFileSync(row.file, 'utf8').trim()) || null
  } catch {
    return pidOfCommand(/mariadbd$|mysqld$/)
  } finally {
    await pool.end()
  }
}

/** µs of CPU per successful request for each process between two `cpu()` readings, and their sum. */
export function cpuPerRequest(before, after, requests) {
  const row = {}
  let total = 0
  for (const [name, ms] of Object.entries(after)) {
    if (ms === null || before[name] === null || before[name] === undefined || requests === 0) continue
    const us = ((ms - before[name]) * 1000) / requests
    if (us >= 0.5) row[name] = Math.round(us)
    total += us
  }
  return { row, total: Math.round(total) }
}
