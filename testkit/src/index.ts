import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { fromGateway, TEST_INTERNAL_SECRET } from './from-gateway.js'

/**
 * Names of everything one test file may touch, derived from its path plus a random suffix, so
 * that files running in parallel never see each other's databases, keys, subjects or streams.
 */
export function isolation(fileUrl: string) {
  const stem = basename(fileURLToPath(fileUrl))
    .replace(/\.(test|spec)\.[cm]?[jt]s$/, '')
    .replace(/[^a-z0-9]+/gi, '_')
    .toLowerCase()
    .slice(0, 20)
  const id = `${stem}_${randomBytes(3).toString('hex')}`
  return {
    id,
    database: (name: string) => `t_${name}_${id}`.slice(0, 64),
    redisPrefix: `t:${id}:`,
    natsNamespace: `t_${id}`,
  }
}

export function mysqlUrl(database: string, base = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'): string {
  const url = new URL(base)
  url.pathname = `/${database}`
  return url.toString()
}

/** Listens on `port` (0: any the kernel picks) and closes again; the port, or undefined when it is taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', () => resolve(undefined))
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address()
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : undefined))
    })
  })
}

const LOW_PORTS_FROM = 20_000

/** The first port the kernel gives outgoing connections (net.ipv4.ip_local_port_range). */
async function ephemeralPortsFrom(): Promise<number> {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '')
  return Number(range.trim().split(/\s+/)[0]) || 0
}

/**
 * A port nobody listens on now, for a server started a moment later. It is taken below the kernel's
 * range for outgoing connections where there is room: a port from that range can become the local
 * end of a database or NATS connection before its server starts (a drill's payment-service failed
 * five starts in a row with EADDRINUSE on a port a pooled connection of another service held).
 */
export async function freePort(): Promise<number> {
  const below = await ephemeralPortsFrom()
  for (let attempt = 0; below > LOW_PORTS_FROM + 1_000 && attempt < 20; attempt++) {
    const port = await tryPort(LOW_PORTS_FROM + Math.floor(Math.random() * (below - LOW_PORTS_FROM)))
    if (port) return port
  }
  const any = await tryPort(0)
  if (!any) throw new Error('no free port')
  return any
}

export function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

export const SHARED_SERVICES = [
  { name: 'MariaDB', url: process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306', defaultPort: 3306 },
  { name: 'Redis', url: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', defaultPort: 6379 },
  { name: 'NATS', url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', defaultPort: 4222 },
]

/** For vitest globalSetup: fail at once, in one sentence, when a shared service is not reachable. */
export async function requireServices(): Promise<void> {
  const missing: string[] = []
  for (const s of SHARED_SERVICES) {
    const u = new URL(s.url)
    if (!(await canConnect(u.hostname, Number(u.port || s.defaultPort)))) missing.push(`${s.name} at ${u.host}`)
  }
  if (missing.length > 0) {
    throw new Error(`Tests need ${missing.join(', ')}: run \`npm test\` from the repository root (it starts them) or start them yourself.`)
  }
}

/**
 * Deletes the JetStream streams that earlier test runs left on the shared NATS (names start with
 * the isolation prefix `T_`). Only those older than `olderThanMs`: a run going on beside this one
 * keeps its own. Without it every run adds its streams and consumers to the server for good.
 */
export async function sweepStaleTestStreams(url = SHARED_SERVICES.find((s) => s.name === 'NATS')!.url, olderThanMs = 3_600_000): Promise<number> {
  const nc = await connect({ servers: url, timeout: 2_000 })
  try {
    const jsm = await jetstreamManager(nc)
    const stale: string[] = []
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith('T_') && Date.now() - Date.parse(s.created) > olderThanMs) stale.push(s.config.name)
    }
    for (const name of stale) await jsm.streams.delete(name).catch(() => undefined)
    return stale.length
  } finally {
    await nc.close()
  }
}

export interface ThrowawayServer {
  url: string
  port: number
  /** The server's own pid file: a drill that starts it again by a runbook command finds it there. */
  pidFile: string
  /** SIGSTOP: the server hangs (accepts nothing, answers nothing); resolves once every thread has stopped. */
  pause(): Promise<void>
  resume(): void
  stop(): Promise<void>
  /** Starts it again on the same port (and data directory) after stop(). */
  restart(): Promise<void>
}

export async function waitForPort(port: number, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await canConnect('127.0.0.1', port, 200)) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${what} did not start on port ${port} within ${timeoutMs} ms`)
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGCONT')
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 3_000).unref()
  })
}

async function throwaway(opts: {
  what: string
  pidFile: (port: number) => string
  url: (port: number) => string
  command: string
  args: (port: number) => string[]
  cleanup?: () => Promise<void>
  readyPort?: (port: number) => number
}): Promise<ThrowawayServer> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(opts.command, opts.args(port), { stdio: 'ignore' })
    child.on('error', () => undefined)
    await waitForPort(opts.readyPort ? opts.readyPort(port) : port, opts.what)
  }
  await start()
  return {
    url: opts.url(port),
    port,
    pidFile: opts.pidFile(port),
    async pause() {
      if (!child?.pid) return
      child.kill('SIGSTOP')
      await stoppedForSure(child.pid)
    },
    resume: () => child?.kill('SIGCONT'),
    async stop() {
      await stopChild(child)
      child = undefined
      // Started again by someone else (a drill running the runbook's command): stopped by its pid file.
      await stopByPidFile(opts.pidFile(port), opts.what)
    },
    async restart() {
      await stopChild(child)
      await start()
    },
  }
}

/**
 * SIGSTOP takes hold only when a thread of the process next runs: on busy cores a thread woken by a
 * request could still answer it first (a "paused" MariaDB served a query in CI). Waits until every
 * thread is in the stopped state; after two seconds the test is told so rather than left to guess.
 */
async function stoppedForSure(pid: number): Promise<void> {
  const deadline = Date.now() + 2_000
  while (Date.now() < deadline) {
    const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[])
    const states = await Promise.all(tasks.map((t) => readFile(`/proc/${pid}/task/${t}/stat`, 'utf8').catch(() => '')))
    // The state is the field after the command name, which is in parentheses and may hold spaces.
    if (states.every((st) => /\) [Tt] /.test(st))) return
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`pid ${pid} was sent SIGSTOP but not every thread had stopped 2 s later`)
}

async function stopByPidFile(pidFile: string, comm: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim())
  // A stale file may name a pid that another program has since been given.
  if (!(pid > 0) || (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() !== comm) return
  const alive = () => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  if (!alive()) return
  process.kill(pid, 'SIGCONT')
  process.kill(pid, 'SIGTERM')
  for (let i = 0; i < 60 && alive(); i++) await new Promise((r) => setTimeout(r, 50))
  if (alive()) process.kill(pid, 'SIGKILL')
}

/** A private Redis on a free port, for tests that stop, pause or fill it. */
export async function startThrowawayRedis(): Promise<ThrowawayServer & { dispose(): Promise<void> }> {
  // Its own directory for the pid file: a file named by the port alone could be another test's
  // server by the time this one is disposed (ports are reused), and stop() would end that one.
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-redis-'))
  const pidFile = join(dir, 'redis.pid')
  const server = await throwaway({
    what: 'redis-server',
    pidFile: () => pidFile,
    command: 'redis-server',
    args: (port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--pidfile', pidFile],
    url: (port) => `redis://127.0.0.1:${port}`,
  })
  return {
    ...server,
    async dispose() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A private NATS with JetStream on a free port and its own store directory. */
export async function startThrowawayNats(): Promise<ThrowawayServer & { dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-nats-'))
  const server = await throwaway({
    what: 'nats-server',
    pidFile: () => join(dir, 'nats-server.pid'),
    command: process.env.NATS_SERVER_BIN ?? (await which(['nats-server', '/usr/sbin/nats-server'])),
    args: (port) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-P', join(dir, 'nats-server.pid')],
    url: (port) => `nats://127.0.0.1:${port}`,
  })
  return {
    ...server,
    async dispose() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A private MariaDB on a free port with its own data directory (about a second to start). */
/** `extraArgs`: more mariadbd options (TLS files, replication settings). */
export async function startThrowawayMariadb(extraArgs: string[] = []): Promise<ThrowawayServer & { dispose(): Promise<void>; binary: string; args: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-mariadb-'))
  // mariadbd drops to the mysql user, which must be able to enter the directory.
  await chmod(dir, 0o755)
  const install = spawn('mariadb-install-db', ['--user=mysql', `--datadir=${dir}/data`, '--skip-test-db', '--auth-root-authentication-method=normal'], { stdio: 'ignore' })
  await new Promise<void>((resolve, reject) => install.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mariadb-install-db exited ${code}`)))))
  const mariadbd = await which(['mariadbd', '/usr/sbin/mariadbd'])
  const args = (port: number) => [
    '--no-defaults',
    '--user=mysql',
    `--datadir=${dir}/data`,
    `--socket=${dir}/data/mysqld.sock`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--pid-file=${dir}/data/mysqld.pid`,
    ...extraArgs,
  ]
  const server = await throwaway({
    what: 'mariadbd',
    pidFile: () => `${dir}/data/mysqld.pid`,
    command: mariadbd,
    args,
    url: (port) => `mysql://root@127.0.0.1:${port}`,
  })
  return {
    ...server,
    binary: mariadbd,
    args: args(server.port),
    async dispose() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

export async function which(candidates: string[]): Promise<string> {
  const { access } = await import('node:fs/promises')
  for (const c of candidates) {
    if (!c.includes('/')) {
      for (const dir of (process.env.PATH ?? '').split(':')) {
        try {
          await access(join(dir, c))
          return join(dir, c)
        } catch {
          /* next */
        }
      }
    } else {
      try {
        await access(c)
        return c
      } catch {
        /* next */
      }
    }
  }
  throw new Error(`none of ${candidates.join(', ')} is installed`)
}

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  kind: number
  service: string
  attributes: Record<string, unknown>
  status: number
}

function hexId(id: unknown): string {
  if (typeof id !== 'string') return ''
  return /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex')
}

/** A minimal OTLP/HTTP (JSON) trace receiver (on a free port unless one is given): what a collector would get. */
export async function startOtlpReceiver({ port: wanted = 0 }: { port?: number } = {}): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const { createServer: createHttpServer } = await import('node:http')
  const spans: ReceivedSpan[] = []
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[]
        }
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? 'unknown'
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes = Object.fromEntries(((s.attributes as { key: string; value: Record<string, unknown> }[]) ?? []).map((a) => [a.key, Object.values(a.value)[0]]))
              spans.push({
                traceId: hexId(s.traceId),
                spanId: hexId(s.spanId),
                parentSpanId: s.parentSpanId ? hexId(s.parentSpanId) || undefined : undefined,
                name: String(s.name),
                kind: Number(s.kind),
                service,
                attributes,
                status: Number((s.status as { code?: number } | undefined)?.code ?? 0),
              })
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      } catch {
        res.writeHead(400).end()
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(wanted, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** One HTTP answer as a fault test reads it: status, time taken, Retry-After, content type, JSON body. */
export interface TimedAnswer {
  status: number
  ms: number
  retryAfter: string | null
  type: string | null
  body: { status?: number; code?: string; traceId?: string } & Record<string, unknown>
}

export async function timedFetch(url: string, init: RequestInit = {}): Promise<TimedAnswer> {
  const started = performance.now()
  const res = await fetch(url, init)
  const body = (await res.json().catch(() => ({}))) as TimedAnswer['body']
  return { status: res.status, ms: performance.now() - started, retryAfter: res.headers.get('retry-after'), type: res.headers.get('content-type'), body }
}

/**
 * What a fault test checks of an answer to a request made while a dependency fails, as one object to
 * compare with `FAST_503`: a 503 problem with Retry-After, a dependency or overload code and the
 * trace id, within `withinMs`.
 */
export function fast503Shape(a: TimedAnswer, withinMs: number) {
  return {
    status: a.status,
    fast: a.ms < withinMs,
    retryAfter: Number(a.retryAfter) > 0,
    problem: a.type?.includes('application/problem+json') ?? false,
    code: /^COMMON_(DEPENDENCY_DOWN|OVERLOADED)$/.test(String(a.body.code)),
    traceId: /^[0-9a-f]{32}$/.test(String(a.body.traceId)),
  }
}
export const FAST_503 = { status: 503, fast: true, retryAfter: true, problem: true, code: true, traceId: true }

/**
 * A service's built server (`dist/server.js`) in its own process, as it runs in production (the
 * driver's stray rejections on a lost database are handled as there), ready once its admin
 * listener's /health/ready is (`admin`: that listener's base URL).
 */
export async function startServiceProcess(serverJs: URL, env: Record<string, string>, opts: { readyWithinMs?: number } = {}) {
  const [port, adminPort] = [await freePort(), await freePort()]
  const base = `http://127.0.0.1:${port}`
  const admin = `http://127.0.0.1:${adminPort}`
  const child = spawn(process.execPath, [fileURLToPath(serverJs)], {
    env: { ...process.env, TZ: 'UTC', LOG_LEVEL: 'error', INTERNAL_SECRET: TEST_INTERNAL_SECRET, ...env, PORT: String(port), ADMIN_PORT: String(adminPort) },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const deadline = Date.now() + (opts.readyWithinMs ?? 15_000)
  while ((await timedFetch(`${admin}/health/ready`).catch(() => ({ status: 0 }))).status !== 200) {
    if (child.exitCode !== null) throw new Error(`${fileURLToPath(serverJs)} exited with ${child.exitCode}`)
    if (Date.now() > deadline) throw new Error(`${fileURLToPath(serverJs)} not ready within ${opts.readyWithinMs ?? 15_000} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    base,
    admin,
    child,
    /** A request as the gateway sends it (signed). */
    call: (path: string, init: RequestInit = {}) =>
      timedFetch(`${base}${path}`, { ...init, headers: fromGateway({ method: init.method ?? 'GET', url: path, headers: (init.headers ?? {}) as Record<string, string> }).headers }),
    stop: () => void child.kill('SIGTERM'),
    /** SIGSTOP: the instance hangs (its port still takes connections, nothing answers); resolves once every thread stopped. */
    async pause() {
      child.kill('SIGSTOP')
      await stoppedForSure(child.pid!)
    },
    resume: () => void child.kill('SIGCONT'),
  }
}
export { startDelayProxy, type DelayProxy } from './delay-proxy.js'
export { fromGateway, TEST_INTERNAL_SECRET }
