import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { fromGateway, TEST_INTERNAL_SECRET } from './from-gateway.js'
import { canConnect, freePort } from './ports.js'
import { stoppedForSure } from './throwaway-servers.js'

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
/**
 * A service's built server as its own process on a throw-away MariaDB's database `url`, isolated
 * by `iso`, with statements bounded at 500 ms. `dispose` resumes the server if it was paused, then
 * ends both.
 */
export async function startServiceOnThrowawayDatabase(
  serverJs: URL,
  mariadb: { resume(): void; dispose(): Promise<void> },
  url: string,
  iso: { redisPrefix: string; natsNamespace: string },
) {
  const service = await startServiceProcess(serverJs, { MYSQL_URL: url, REDIS_PREFIX: iso.redisPrefix, NATS_NAMESPACE: iso.natsNamespace, MYSQL_STATEMENT_TIMEOUT_MS: '500' })
  return {
    ...service,
    async dispose() {
      mariadb.resume()
      service.stop()
      await mariadb.dispose()
    },
  }
}

export { startDelayProxy, type DelayProxy } from './delay-proxy.js'
export { fromGateway, TEST_INTERNAL_SECRET }
export { canConnect, freePort } from './ports.js'
export { startThrowawayMariadb, startThrowawayNats, startThrowawayRedis, waitForPort, which, type ThrowawayServer } from './throwaway-servers.js'
export { startOtlpReceiver, type ReceivedSpan } from './otlp-receiver.js'
