import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { CommandRun } from './modes.js'
import { repoRoot } from './stack.js'

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The 1-minute load average: latencies on a shared 2-core machine mean little without it. */
export async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8').catch(() => '?')).split(' ')[0]!
}

export function runCommand(command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CommandRun> {
  const at = Date.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c.toString('utf8')))
    child.stderr.on('data', (c: Buffer) => out.push(c.toString('utf8')))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    const shown = [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a}'`)).join(' ')
    child.on('error', (err) => resolve({ command: shown, exitCode: 127, output: err.message, at }))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ command: shown, exitCode: code ?? 1, output: out.join('').trim(), at })
    })
  })
}

export async function waitFor<T>(what: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await what().catch(() => undefined)
    if (v !== undefined) return v
    await sleep(everyMs)
  }
  return undefined
}
