import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { connectNats } from '@tickets/shared/nats'
import { freePort, type isolation } from '@tickets/testkit'
import { Redis } from 'ioredis'

const root = fileURLToPath(new URL('../../../', import.meta.url))

export interface RunningProcess {
  name: string
  child: ChildProcess
  url: string
  /** Its admin listener: readiness, dependency health, metrics and, on the gateway, the operator's routes. */
  adminUrl: string
  /** The last lines it wrote, for a failure message. */
  output: string[]
  tracing: boolean
}

/**
 * A service as production runs it: `node --import @tickets/shared/telemetry/register dist/server.js`
 * in its own process, with its admin listener on a free port, ready once /health/ready answers
 * there (and, with `waitForTracing`, once it said tracing is on: a span made before would be lost).
 */
export async function startProcess(name: string, dir: string, env: Record<string, string>, port: number, opts: { waitForTracing?: boolean } = {}): Promise<RunningProcess> {
  if (!existsSync(`${root}${dir}/dist/server.js`)) throw new Error(`${dir}/dist/server.js is missing: build first (npm test builds everything)`)
  const adminPort = await freePort()
  const child = spawn(process.execPath, ['--import', '@tickets/shared/telemetry/register', 'dist/server.js'], {
    cwd: `${root}${dir}`,
    env: {
      ...process.env,
      TZ: 'UTC',
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: 'warn',
      OTEL_SERVICE_NAME: name,
      SHUTDOWN_GRACE_MS: '3000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const proc: RunningProcess = { name, child, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, output: [], tracing: false }
  const keep = (chunk: Buffer) => {
    proc.output.push(chunk.toString('utf8'))
    if (chunk.includes(': tracing on')) proc.tracing = true
    if (proc.output.length > 200) proc.output.shift()
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const deadline = Date.now() + 45_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${proc.output.join('').slice(-3_000)}`)
    if (
      (!opts.waitForTracing || proc.tracing) &&
      (await fetch(`${proc.adminUrl}/health/ready`).then(
        (r) => r.ok,
        () => false,
      ))
    )
      return proc
    if (Date.now() > deadline) throw new Error(`${name} is not ready after 45 s:\n${proc.output.join('').slice(-3_000)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

export function stopProcess(proc: RunningProcess): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.child.kill('SIGKILL'), 8_000)
    proc.child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    proc.child.kill('SIGTERM')
  })
}

/** Deletes what processes of this file left in the shared NATS (its streams) and Redis (its prefix). */
export async function removeIsolatedState(iso: ReturnType<typeof isolation>, cleanupName: string): Promise<void> {
  const bus = await connectNats({ url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', name: cleanupName, namespace: iso.natsNamespace })
  for await (const s of bus.jsm.streams.list()) {
    if (s.config.name.startsWith(`${iso.natsNamespace.toUpperCase()}_`)) await bus.jsm.streams.delete(s.config.name).catch(() => undefined)
  }
  await bus.close()
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379')
  for (let cursor = '0'; ;) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${iso.redisPrefix}*`, 'COUNT', 500)
    if (keys.length > 0) await redis.unlink(...keys)
    cursor = next
    if (cursor === '0') break
  }
  redis.disconnect()
}
