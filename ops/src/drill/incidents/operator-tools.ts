import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import type { DrillContext } from '../modes.js'

export async function pidFrom(file: string): Promise<number> {
  const pid = Number((await readFile(file, 'utf8')).trim())
  if (!(pid > 0)) throw new Error(`no pid in ${file}`)
  return pid
}

// As the runbook types it: a hung Redis never answers, so no redis-cli waits longer than 2 s.
export const redisCli = (ctx: DrillContext, ...args: string[]) => ctx.sh('timeout', ['2', 'redis-cli', '-h', '127.0.0.1', '-p', String(ctx.stack.redis.port), ...args])

export async function redisPong(ctx: DrillContext) {
  const ping = await redisCli(ctx, 'ping')
  return { ok: ping.exitCode === 0 && ping.output === 'PONG', detail: `redis-cli ping answered "${ping.output}"` }
}

/** The runbook's step for a hung Redis: `kill -CONT <pid>`, then `redis-cli ping`; `fixedAt`, when it was resumed. */
export async function resumeRedis(ctx: DrillContext) {
  const cont = await ctx.sh('kill', ['-CONT', String(await pidFrom(ctx.stack.redis.pidFile))])
  const fixedAt = Date.now()
  const pong = await redisPong(ctx)
  return { ok: cont.exitCode === 0 && pong.ok, detail: `kill -CONT exit ${cont.exitCode}; ${pong.detail}`, fixedAt }
}

/** A service instance's /metrics (on its admin port) as text ('' when it does not answer), and one sample of it. */
export const metricsOf = (port: number) =>
  fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  )
export const sample = (text: string, name: string, label = '') => new RegExp(`^${name}(?:\\{[^}]*${label}[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1]

export async function mariadbPing(ctx: DrillContext) {
  // --wait: retry the connection while the server starts.
  const ping = await ctx.sh('mariadb-admin', ['--host=127.0.0.1', `--port=${ctx.stack.mariadb.port}`, '--user=root', '--wait=30', '--connect-timeout=2', 'ping'])
  return { ok: ping.exitCode === 0 && ping.output.includes('mysqld is alive'), detail: `mariadb-admin ping answered "${ping.output}"` }
}

/** A client session of the drill's own, as an operator's or a batch job's would be. */
export function mariadbSession(ctx: DrillContext, user: string, sql: string): ChildProcess {
  const child = spawn('mariadb', ['--host=127.0.0.1', `--port=${ctx.stack.mariadb.port}`, `--user=${user}`, 'tickets_booking'], { stdio: ['pipe', 'ignore', 'ignore'] })
  child.stdin!.write(sql)
  return child
}
export const mariadbExec = (ctx: DrillContext, sql: string) => ctx.sh('mariadb', ['--host=127.0.0.1', `--port=${ctx.stack.mariadb.port}`, '--user=root', '--batch', '-e', sql])

/** Prometheus' answer to an instant query, as `label=value: number` lines. */
export async function promQuery(ctx: DrillContext, expr: string, label: string): Promise<string> {
  const res = await fetch(`${ctx.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5_000) })
  const body = (await res.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } }
  return (body.data?.result ?? []).map((r) => `${r.metric[label] ?? '?'} ${(Number(r.value[1]) * 1000).toFixed(0)} ms`).join(', ')
}
