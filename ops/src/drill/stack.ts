import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signUserToken } from '@tickets/contracts/auth'
import { freePort, startDelayProxy, startThrowawayMariadb, startThrowawayNats, startThrowawayRedis, type DelayProxy } from '@tickets/testkit'
import { stopLater } from './cleanup.js'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

export type Mariadb = Awaited<ReturnType<typeof startThrowawayMariadb>>
export type Throwaway = Awaited<ReturnType<typeof startThrowawayRedis>>

export interface DrillStack {
  gateway: string
  /** Each service's base port (instance i listens on it + 10·(i-1)). */
  ports: { gateway: number; queue: number; booking: number; payment: number }
  /** Each service's base admin port (readiness, dependency health, metrics), likewise per instance. */
  adminPorts: { gateway: number; queue: number; booking: number; payment: number }
  /** Every instance's admin listener, as npm start started them (scaled ones included). */
  adminUrls: string[]
  /** The pid of scripts/start.mjs (the supervisor): `kill -HUP` starts instances left down again. */
  supervisorPid: number
  mariadb: Mariadb
  /** The services reach MariaDB through it (the drill's own reads go straight): it can slow the link. */
  mariadbLink: DelayProxy
  redis: Throwaway
  nats: Throwaway
  /** Env for `node ops/dist/cli.js <action>` against this stack (what the runbook's `npm run ops --` reads). */
  opsEnv: Record<string, string>
  bookingDb: string
  paymentDb: string
  targetsDir: string
  tracesFile: string
  /** Every line `npm start` and its services wrote (JSON log lines and the supervisor's). */
  output: string[]
  userToken(userId: string): Promise<string>
  /** Where npm start reads each service's overrides (<dir>/booking-service.env) when an instance starts. */
  serviceEnvDir: string
  /** What npm start put on each child's command line before `/<instance>` (`pkill -f '<tag>/booking-1$'`). */
  tag: string
  /** Pids of this stack's instance (`booking-1`), found by the tag on their command line. */
  pidsOf(instance: string): Promise<number[]>
  stop(): Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * What `npm start` runs, on throw-away MariaDB, Redis and NATS on free ports: scripts/start.mjs with
 * its env pointing at them, its own service ports, secrets and Prometheus target files, and a tag on
 * every child's command line so that only this stack's processes are ever signalled.
 */
export async function startDrillStack(opts: { scale?: Record<string, number>; extraEnv?: Record<string, string>; log?: (line: string) => void } = {}): Promise<DrillStack> {
  const work = await mkdtemp(join(tmpdir(), 'tickets-drill-'))
  const servers = await Promise.allSettled([startThrowawayMariadb(), startThrowawayRedis(), startThrowawayNats()])
  const disposers = servers.flatMap((s, i) => (s.status === 'fulfilled' ? [stopLater(`throw-away ${['MariaDB', 'Redis', 'NATS'][i]}`, () => s.value.dispose())] : []))
  const failed = servers.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) {
    await Promise.all(disposers.map((d) => d()))
    throw failed.reason
  }
  const [mariadb, redis, nats] = servers.map((s) => (s as PromiseFulfilledResult<Throwaway>).value) as [Mariadb, Throwaway, Throwaway]
  const mariadbLink = await startDelayProxy({ host: '127.0.0.1', port: mariadb.port })
  const tag = `tickets-drill-${randomBytes(3).toString('hex')}`
  const secret = randomBytes(32).toString('base64url')
  const operatorSecret = randomBytes(32).toString('base64url')
  const ports: Record<string, number> = {}
  for (const name of ['GATEWAY', 'QUEUE', 'BOOKING', 'PAYMENT']) for (const port of [`${name}_PORT`, `${name}_ADMIN_PORT`]) ports[port] = await freePort()
  const at = (name: string) => ports[name]!
  const adminPorts = { gateway: at('GATEWAY_ADMIN_PORT'), queue: at('QUEUE_ADMIN_PORT'), booking: at('BOOKING_ADMIN_PORT'), payment: at('PAYMENT_ADMIN_PORT') }
  const bookingDb = `${mariadb.url}/tickets_booking`
  const paymentDb = `${mariadb.url}/tickets_payment`
  const targetsDir = join(work, 'prometheus-targets')
  const tracesFile = join(work, 'traces.jsonl')
  const serviceEnvDir = join(work, 'env')
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    MYSQL_URL: `mysql://root@127.0.0.1:${mariadbLink.port}`,
    REDIS_URL: redis.url,
    NATS_URL: nats.url,
    AUTH_JWT_SECRET: secret,
    INTERNAL_SECRET: randomBytes(32).toString('base64url'),
    OPERATOR_SECRET: operatorSecret,
    // One machine plays every fan, each from its own X-Forwarded-For address.
    TRUSTED_PROXIES: '127.0.0.1',
    PROMETHEUS_TARGETS_DIR: targetsDir,
    TRACES_FILE: tracesFile,
    SERVICE_ENV_DIR: serviceEnvDir,
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_MS: '3000',
    ...opts.extraEnv,
  }
  const scaleArgs = Object.entries(opts.scale ?? {}).flatMap(([name, n]) => ['--scale', `${name}=${n}`])
  const output: string[] = []
  const child: ChildProcess = spawn(process.execPath, ['scripts/start.mjs', '--tag', tag, '--skip-build', ...scaleArgs], {
    cwd: repoRoot,
    detached: true,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stopServices = stopLater(`npm start (${tag})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(20_000)])
    }
    for (const name of ['gateway', 'queue', 'booking', 'payment']) {
      for (let i = 1; i <= 8; i++) for (const pid of await pidsOf(`${name}-${i}`)) process.kill(pid, 'SIGKILL')
    }
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL')
  })
  for (const s of [child.stdout!, child.stderr!]) {
    let rest = ''
    s.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) {
        output.push(line)
        if (!line.startsWith('{')) opts.log?.(line)
      }
      if (output.length > 20_000) output.splice(0, output.length - 20_000)
    })
  }

  const pidsOf = async (instance: string) => {
    const pids: number[] = []
    for (const d of await readdir('/proc')) {
      if (!/^\d+$/.test(d)) continue
      const cmdline = await readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '')
      if (cmdline.split('\0').includes(`${tag}/${instance}`)) pids.push(Number(d))
    }
    return pids
  }

  const stop = async () => {
    await stopServices()
    await mariadbLink.close()
    await Promise.all(disposers.map((d) => d()))
    await rm(work, { recursive: true, force: true })
  }

  const deadline = Date.now() + 120_000
  while (!output.some((l) => l.includes('All services are UP'))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(
        `the drill's stack did not come up (npm start ${child.exitCode === null ? 'not ready after 120 s' : `exited ${child.exitCode}`}):\n${output.slice(-40).join('\n')}`,
      )
    }
    await sleep(250)
  }

  return {
    gateway: `http://127.0.0.1:${at('GATEWAY_PORT')}`,
    ports: { gateway: at('GATEWAY_PORT'), queue: at('QUEUE_PORT'), booking: at('BOOKING_PORT'), payment: at('PAYMENT_PORT') },
    adminPorts,
    adminUrls: Object.entries(adminPorts).flatMap(([name, port]) => Array.from({ length: opts.scale?.[name] ?? 1 }, (_, i) => `http://127.0.0.1:${port + 10 * i}`)),
    supervisorPid: child.pid!,
    mariadb,
    mariadbLink,
    redis,
    nats,
    opsEnv: {
      BOOKING_MYSQL_URL: bookingDb,
      PAYMENT_MYSQL_URL: paymentDb,
      REDIS_URL: redis.url,
      NATS_URL: nats.url,
      OPERATOR_SECRET: operatorSecret,
      // Load runs sign their fans' tokens with it.
      AUTH_JWT_SECRET: secret,
      GATEWAY_OPERATOR_URL: `http://127.0.0.1:${adminPorts.gateway}`,
      TRACES_FILE: tracesFile,
    },
    bookingDb,
    paymentDb,
    targetsDir,
    tracesFile,
    output,
    serviceEnvDir,
    tag,
    userToken: (userId) => signUserToken({ secret, userId, ttlSeconds: 3_600 }),
    pidsOf,
    stop,
  }
}
