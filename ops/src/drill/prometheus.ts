import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@tickets/testkit'
import { repoRoot } from './stack.js'

export const RULES_FILE = join(repoRoot, 'deploy', 'prometheus', 'alerts.yml')
const JOBS = ['gateway', 'queue-service', 'booking-service', 'payment-service']

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3_600 }
const seconds = (n: string, unit: string) => Number(n) * UNIT_SECONDS[unit]!

/**
 * The rules with time compressed `factor` times: every `for:`, range `[5m]` and `offset`. An alert
 * then fires and resolves on the same evidence as the real rule, in a fraction of the time. Only the
 * fast mode uses it; the full mode loads deploy/prometheus/alerts.yml unchanged.
 */
export function compressRuleTime(rules: string, factor: number): string {
  const scaled = (n: string, unit: string) => `${Math.max(1, Math.round(seconds(n, unit) / factor))}s`
  return rules
    .replace(/\bfor: (\d+)([smh])\b/g, (_, n: string, u: string) => `for: ${scaled(n, u)}`)
    .replace(/\[(\d+)([smh])\]/g, (_, n: string, u: string) => `[${scaled(n, u)}]`)
    .replace(/\boffset (\d+)([smh])\b/g, (_, n: string, u: string) => `offset ${scaled(n, u)}`)
}

export interface PrometheusAlert {
  labels: Record<string, string>
  state: 'pending' | 'firing'
  activeAt: string
}

export interface DrillPrometheus {
  url: string
  rulesNote: string
  alerts(): Promise<PrometheusAlert[]>
  stop(): Promise<void>
}

/**
 * A real Prometheus (Debian's 2.42) loaded with the alert rules, scraping the drill stack's target
 * files (written by start.mjs) every `scrapeSeconds`.
 */
export async function startPrometheus(opts: { targetsDir: string; timeFactor: number; scrapeSeconds: number }): Promise<DrillPrometheus> {
  const bin = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((b) => spawnSync(b, ['--version']).status === 0)
  if (!bin) throw new Error('prometheus is not installed: `apt-get install -y prometheus` (Debian 12 has 2.42)')
  const dir = await mkdtemp(join(tmpdir(), 'tickets-drill-prometheus-'))
  const real = await readFile(RULES_FILE, 'utf8')
  const rules = opts.timeFactor === 1 ? real : compressRuleTime(real, opts.timeFactor)
  await writeFile(join(dir, 'alerts.yml'), rules)
  const check = spawnSync('promtool', ['check', 'rules', join(dir, 'alerts.yml')], { encoding: 'utf8' })
  if (check.status !== 0) throw new Error(`promtool refuses the drill's rules: ${check.stdout}${check.stderr}`)
  const config = [
    'global:',
    `  scrape_interval: ${opts.scrapeSeconds}s`,
    `  evaluation_interval: ${opts.scrapeSeconds}s`,
    `  scrape_timeout: ${opts.scrapeSeconds}s`,
    'rule_files: [alerts.yml]',
    'scrape_configs:',
    ...JOBS.flatMap((job) => [`  - job_name: ${job}`, `    file_sd_configs: [{ files: ['${join(opts.targetsDir, `${job}.json`)}'], refresh_interval: 1s }]`]),
    '',
  ].join('\n')
  await writeFile(join(dir, 'prometheus.yml'), config)
  await mkdir(join(dir, 'data'))
  const port = await freePort()
  const child = spawn(
    bin,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const stderr: string[] = []
  child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString('utf8')))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (
    !(await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      await rm(dir, { recursive: true, force: true })
      throw new Error(`prometheus did not start: ${stderr.join('').slice(-2_000)}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    rulesNote:
      opts.timeFactor === 1
        ? 'deploy/prometheus/alerts.yml as it is'
        : `deploy/prometheus/alerts.yml with time compressed ${opts.timeFactor} times (every for:, range and offset divided by ${opts.timeFactor}; checked by promtool)`,
    async alerts() {
      const body = (await (await fetch(`${url}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) })).json()) as { data: { alerts: PrometheusAlert[] } }
      return body.data.alerts
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}
