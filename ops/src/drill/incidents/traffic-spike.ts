import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../stack.js'
import { firesWithin, resolvesWithin, type Incident } from './incident.js'

/** The opening day's crowd: `npm run load -- ticket-open` (the Node runner) against the drill's gateway. */
const SPIKE = { users: 1_000, rampSeconds: 20 }
let spike: { child: ChildProcess; out: string; exited: Promise<number>; concertId: string } | undefined

export const trafficSpike: Incident = {
  id: '3.4.1',
  section: '3.4.1',
  title: `The ticket-opening spike: ${SPIKE.users} fans arrive for a new concert within ${SPIKE.rampSeconds} s`,
  runbook: 'ticket-opening',
  alert: { name: 'TrafficSpike' },
  expects503: false,
  // The runbook: abandoned holds end sooner with a shorter HOLD_TTL_SECONDS; the fast drill's crowd
  // then does not wait five minutes for the last of them.
  env: (mode): Record<string, string> => (mode.timeFactor > 1 ? { HOLD_TTL_SECONDS: '60' } : {}),
  // A quiet usual under the alert's floor of 10 requests a second (two fans buying, nobody browsing),
  // so that only the opening can fire it.
  fans: () => 2,
  readers: () => 0,
  // The alert compares with the rate of the hour before the last ten minutes: that history must exist.
  calmMs: (mode) => ((10 * 60) / mode.timeFactor + 20) * 1_000,
  alertWithinMs: firesWithin(60 + 2 * 60),
  resolveWithinMs: (mode) => SPIKE.rampSeconds * 1_000 + resolvesWithin(2 * 60)(mode),
  async inject(ctx) {
    const out = await mkdtemp(join(tmpdir(), 'tickets-drill-spike-'))
    const args = ['loadtest/dist/runner/cli.js', 'ticket-open', '--users', String(SPIKE.users), '--ramp', `${SPIKE.rampSeconds}s`]
    args.push('--base-url', ctx.stack.gateway, '--metrics', '', '--warmup', '0', '--no-reconcile', '--out', out)
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...ctx.stack.opsEnv }, stdio: ['ignore', 'ignore', 'pipe'] })
    const lines: string[] = []
    child.stderr!.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)))
    const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)))
    const started = Date.now()
    const onSale = () => lines.map((l) => /concert (\S+) put on sale/.exec(l)?.[1]).find(Boolean)
    while (!onSale() && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 100))
    const concertId = onSale()
    if (!concertId) throw new Error(`the load run put no concert on sale within 30 s: ${lines.slice(-5).join(' | ')}`)
    spike = { child, out, exited, concertId }
    return `\`npm run load -- ${args.slice(1).join(' ')}\` started, for concert ${concertId}`
  },
  mitigation:
    "the runbook's during-the-opening steps: `npm run ops -- queue:status <concertId>` (the line holds the crowd), then the non-core ranking off: `npm run ops -- gateway:ranking off`; it goes on again after the spike",
  async mitigate(ctx) {
    const status = await ctx.ops(['queue:status', spike?.concertId ?? ''])
    // queue:status prints the line as one JSON object.
    const line = (() => {
      try {
        return JSON.parse(status.output.split('\n').at(-1) ?? '') as { waiting?: number; limitedBy?: string }
      } catch {
        return undefined
      }
    })()
    const off = await ctx.ops(['gateway:ranking', 'off'])
    // Every gateway reads the switches every SWITCH_CACHE_MS (500 ms): the runbook's "within a second".
    const rankingStatus = () =>
      fetch(`${ctx.stack.gateway}/api/concerts/ranking`, { headers: { 'x-forwarded-for': '10.80.0.1' }, signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status,
        () => 0,
      )
    const offBy = Date.now() + 1_000
    let ranking = await rankingStatus()
    while (ranking === 200 && Date.now() < offBy) {
      await new Promise((r) => setTimeout(r, 100))
      ranking = await rankingStatus()
    }
    return {
      ok: status.exitCode === 0 && line?.limitedBy !== undefined && off.exitCode === 0 && off.output.includes('ranking off') && ranking !== 200,
      detail: `queue:status exit ${status.exitCode}: ${line ? `${line.waiting} waiting, limited by ${line.limitedBy}` : 'no status'} (${status.output}); gateway:ranking off: "${off.output}"; GET /api/concerts/ranking then answered ${ranking}`,
    }
  },
  recovery: { withinMs: 10_000, why: 'runbook ticket-opening: the line protects the booking tier by itself, so the fans already buying go on buying' },
  async finish(ctx) {
    await ctx.ops(['gateway:ranking', 'on'])
    if (!spike) return [{ name: 'the spike ran', ok: false, detail: 'no load run' }]
    const { child, out, exited } = spike
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000)
    const code = await exited
    clearTimeout(timer)
    const file = (await readdir(out)).find((f) => f.endsWith('.json'))
    const report = file ? (JSON.parse(await readFile(join(out, file), 'utf8')) as SpikeReport) : undefined
    const unexpected = report?.unexpected
    return [
      {
        name: "the spike's own fans got no unexpected answer (no 5xx but shed 503s, no lost request)",
        ok: report !== undefined && unexpected === 0,
        detail: report
          ? `load run exit ${code}: ${report.requests} requests, ${unexpected} unexpected, ${report.expectedRejections} expected rejections; ${report.sold} seats sold in ${Math.round(report.durationSeconds)} s`
          : `no report (exit ${code})`,
      },
    ]
  },
}

/** What the Node runner's JSON report says (loadtest/src/runner/report.ts). */
interface SpikeReport {
  durationSeconds: number
  requests: number
  unexpected: number
  expectedRejections: number
  sold: number
}
