import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canConnect, freePort } from './ports.js'
import { installMariadbDataDir } from './mariadb-data-dir.js'

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
export async function stoppedForSure(pid: number): Promise<void> {
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
  return { ...server, dispose: disposeWith(server, dir) }
}

/** Stops the server, then removes its directory. */
function disposeWith(server: ThrowawayServer, dir: string): () => Promise<void> {
  return async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
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
  return { ...server, dispose: disposeWith(server, dir) }
}

/** A private MariaDB on a free port with its own data directory (about a second to start). */
/** `extraArgs`: more mariadbd options (TLS files, replication settings). */
export async function startThrowawayMariadb(extraArgs: string[] = []): Promise<ThrowawayServer & { dispose(): Promise<void>; binary: string; args: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-mariadb-'))
  // mariadbd drops to the mysql user, which must be able to enter the directory.
  await chmod(dir, 0o755)
  await installMariadbDataDir(`${dir}/data`)
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
  return { ...server, binary: mariadbd, args: args(server.port), dispose: disposeWith(server, dir) }
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
