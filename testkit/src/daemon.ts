import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { promisify } from 'node:util'
import { waitForPort } from './index.js'

const run = promisify(execFile)

/** One server process of a throw-away cluster: started, killed outright, stopped, started again. */
export interface Daemon {
  readonly port: number
  /** SIGKILL: the node dies at once, as a machine that lost power. */
  kill(): Promise<void>
  /** SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>
  /** Starts it again with the same arguments (same ports and data directory) after kill() or stop(). */
  start(): Promise<void>
}

function ended(child: ChildProcess | undefined): boolean {
  return !child || child.exitCode !== null || child.signalCode !== null
}

function signal(child: ChildProcess | undefined, sig: NodeJS.Signals, graceMs: number): Promise<void> {
  if (ended(child)) return Promise.resolve()
  return new Promise((resolve) => {
    child!.once('exit', () => resolve())
    child!.kill(sig)
    setTimeout(() => child!.kill('SIGKILL'), graceMs).unref()
  })
}

/** Spawns `command args` and resolves once it accepts connections on `port`. */
export async function startDaemon(what: string, command: string, args: string[], port: number, readyWithinMs = 20_000): Promise<Daemon> {
  let child: ChildProcess | undefined
  const start = async () => {
    if (!ended(child)) return
    child = spawn(command, args, { stdio: 'ignore' })
    child.on('error', () => undefined)
    await waitForPort(port, what, readyWithinMs)
  }
  await start()
  return {
    port,
    start,
    kill: () => signal(child, 'SIGKILL', 0),
    stop: () => signal(child, 'SIGTERM', 3_000),
  }
}

/** Stops every daemon, even when some fail to stop. */
export async function stopAll(daemons: readonly Daemon[]): Promise<void> {
  await Promise.allSettled(daemons.map((d) => d.stop()))
}

/** Runs a command-line client and returns what it printed. */
export async function runClient(command: string, args: string[], timeoutMs = 20_000): Promise<string> {
  const { stdout } = await run(command, args, { timeout: timeoutMs })
  return stdout
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} within ${timeoutMs} ms`)
}
