import type { Scenario } from '../scenarios.js'
import type { CpuUse } from './cpu-meter.js'
import type { LineSummary, SellOutSummary } from './line-ledger.js'
import type { Stats } from './stats.js'

export interface RunResult {
  scenario: Scenario
  stats: Stats
  command: string
  startedAt: Date
  durationSeconds: number
  thresholdFailures: string[]
  reconcile: { ok: boolean; output: string } | null
  memory: { target: string; rssMb: number }[]
  /** CPU per request of the runner itself and of the whole machine over the run (absent in older callers). */
  cpu?: CpuUse
  /** The uncounted warm-up before the run (see rehearsal.ts); absent when there was none. */
  warmup?: { fans: number; sold: number; seconds: number } | null
  /** Whether `ops warm-cache` (the manual's D-1 cache warming) ran before the run. */
  cacheWarmed?: boolean
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04']

function escape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

/** A self-contained SVG line chart (no scripts, no external assets). */
export function lineChart(title: string, unit: string, series: { name: string; values: number[] }[]): string {
  const w = 860
  const h = 240
  const pad = { l: 60, r: 160, t: 28, b: 30 }
  const n = Math.max(1, ...series.map((s) => s.values.length))
  const max = Math.max(1, ...series.flatMap((s) => s.values)) * 1.05
  const x = (i: number) => pad.l + (i / Math.max(1, n - 1)) * (w - pad.l - pad.r)
  const y = (v: number) => h - pad.b - (v / max) * (h - pad.t - pad.b)
  const lines = series
    .map((s, k) => {
      const d = s.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('')
      const color = COLORS[k % COLORS.length]
      return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"/><text x="${w - pad.r + 10}" y="${pad.t + 14 * k + 10}" fill="${color}" font-size="12">${escape(s.name)}</text>`
    })
    .join('')
  const ticks = [0, 0.5, 1]
    .map(
      (f) =>
        `<text x="${pad.l - 6}" y="${y(max * f) + 4}" text-anchor="end" font-size="11" fill="#555">${(max * f).toFixed(max * f < 10 ? 1 : 0)}</text><line x1="${pad.l}" x2="${w - pad.r}" y1="${y(max * f)}" y2="${y(max * f)}" stroke="#eee"/>`,
    )
    .join('')
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escape(title)}">
<text x="${pad.l}" y="18" font-size="14" font-weight="bold">${escape(title)} (${escape(unit)})</text>${ticks}
<line x1="${pad.l}" x2="${w - pad.r}" y1="${h - pad.b}" y2="${h - pad.b}" stroke="#999"/>
<text x="${w - pad.r}" y="${h - 8}" text-anchor="end" font-size="11" fill="#555">${n} s</text>${lines}</svg></figure>`
}

function waitingRoomLines(line: LineSummary, runStartedAt: number): string[] {
  if (line.fansJoined === 0) return []
  const { pollsPerFan: polls, admissionOrder: order } = line
  const reasons = Object.entries(line.reasons)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ')
  return [
    `- Waiting room: ${line.fansJoined} fans joined, ${line.admitted} admitted; polls per fan: mean ${polls.mean.toFixed(1)}, p95 ${polls.p95}, max ${polls.max}; poll answers with a reason: ${reasons}`,
    `- Admission order against join order: Kendall's tau ${order.tau === null ? 'n/a' : order.tau.toFixed(3)} over ${order.pairs} pairs admitted in different steps (${order.fans} admitted fans with a seq and an activeUntil; (concordant - discordant) / (concordant + discordant))`,
    `- Wait of admitted fans (join answer to first ACTIVE): p95 ${line.waitSeconds.p95.toFixed(1)} s, longest ${line.waitSeconds.max.toFixed(1)} s`,
    ...sellOutLines(line.sellOut, runStartedAt),
    ...drawLines(line.draw),
  ]
}

function sellOutLines(sellOut: SellOutSummary, runStartedAt: number): string[] {
  if (sellOut.lastSaleAt === null) return []
  const heard = sellOut.heardSeconds
  return [
    `- Sell-out: the last sale ${((sellOut.lastSaleAt - runStartedAt) / 1000).toFixed(1)} s into the run; ${sellOut.told} fans in line told SOLD_OUT${heard ? `, p95 ${heard.p95.toFixed(1)} s and at most ${heard.max.toFixed(1)} s after it` : ''}`,
  ]
}

const tauText = (tau: number | null) => (tau === null ? 'n/a' : tau.toFixed(3))

/** The opening's draw: the published order recomputed, each drawn fan's place against it, and their admission order. */
function drawLines(draw: LineSummary['draw']): string[] {
  if (!draw) return []
  const recomputed =
    draw.recomputed === null
      ? 'not read (the draw was not made or not reachable)'
      : draw.recomputed
        ? 'recomputed from its seed and entries: matches'
        : `DOES NOT MATCH (${draw.problems.join(', ')})`
  const places = draw.placesChecked === draw.placesMatching ? 'all' : `ONLY ${draw.placesMatching} of`
  return [
    `- The opening's draw: ${draw.fans} fans pre-queued, ${draw.placed} placed by it; the published order ${recomputed}`,
    `- Drawn places against the published order: ${places} ${draw.placesChecked} placed fans at the arrival number their published place gives; admission order against drawn order: Kendall's tau ${tauText(draw.admissionOrder.tau)} over ${draw.admissionOrder.pairs} pairs (${draw.admissionOrder.fans} admitted drawn fans). The line above counts the general line only`,
  ]
}

export function markdownReport(r: RunResult): string {
  const steps = r.stats.stepSummary()
  const lines = [
    `# Load run: ${r.scenario.name}`,
    '',
    `- When: ${r.startedAt.toISOString()} (${r.durationSeconds.toFixed(0)} s)`,
    `- Command: \`${r.command}\``,
    `- Scenario: ${r.scenario.description}`,
    `- Arrivals: ${r.stats.arrivals}, admitted: ${r.stats.admitted}, seats sold: ${r.stats.sold}, abandoned: ${r.stats.abandoned}`,
    `- Requests: ${r.stats.requests} (${(r.stats.requests / Math.max(1, r.durationSeconds)).toFixed(0)} req/s), unexpected: ${r.stats.unexpected} (${((100 * r.stats.unexpected) / Math.max(1, r.stats.requests)).toFixed(3)}%), expected rejections (409/429/503 with Retry-After): ${r.stats.expectedRejections}`,
    `- Thresholds (p95 < ${r.scenario.thresholds.p95Ms} ms per step, unexpected < ${(r.scenario.thresholds.errorRate * 100).toFixed(2)}%): ${r.thresholdFailures.length === 0 ? 'passed' : `FAILED: ${r.thresholdFailures.join('; ')}`}`,
    `- Before the run: catalogue cache ${r.cacheWarmed ? 'warmed' : 'not warmed'}; warm-up (not counted): ${r.warmup ? `${r.warmup.fans} fans bought ${r.warmup.sold} seats on a concert of their own in ${r.warmup.seconds.toFixed(1)} s` : 'none'}`,
    `- Reconcile: ${r.reconcile === null ? 'not run' : r.reconcile.ok ? 'clean' : 'VIOLATIONS (see below)'}`,
    ...waitingRoomLines(r.stats.line.summary(), r.stats.startedAt),
    ...(r.memory.length ? [`- Peak resident memory: ${r.memory.map((m) => `${m.target} ${m.rssMb.toFixed(0)} MB`).join(', ')}`] : []),
    ...(r.cpu
      ? [
          `- CPU per request: the runner ${r.cpu.runnerMicrosPerRequest.toFixed(0)} µs, the whole machine ${r.cpu.machineMicrosPerRequest === null ? 'unknown' : `${r.cpu.machineMicrosPerRequest.toFixed(0)} µs`} (the runner included; from /proc)`,
        ]
      : []),
    '',
    '| step | requests | p50 ms | p95 ms | p99 ms | max ms | statuses |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...steps.map(
      (s) =>
        `| ${s.step} | ${s.count} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} | ${Object.entries(s.statuses)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')} |`,
    ),
  ]
  if (r.reconcile && !r.reconcile.ok) lines.push('', '```', r.reconcile.output.trim(), '```')
  return `${lines.join('\n')}\n`
}

/** The same figures as the Markdown report, for machines. */
export function jsonReport(r: RunResult) {
  return {
    scenario: r.scenario.name,
    command: r.command,
    startedAt: r.startedAt.toISOString(),
    durationSeconds: r.durationSeconds,
    arrivals: r.stats.arrivals,
    admitted: r.stats.admitted,
    sold: r.stats.sold,
    abandoned: r.stats.abandoned,
    requests: r.stats.requests,
    unexpected: r.stats.unexpected,
    expectedRejections: r.stats.expectedRejections,
    thresholds: { ...r.scenario.thresholds, failures: r.thresholdFailures },
    warmup: r.warmup ?? null,
    cacheWarmed: r.cacheWarmed ?? false,
    reconcile: r.reconcile === null ? null : { ok: r.reconcile.ok },
    memory: r.memory,
    cpu: r.cpu ?? null,
    steps: r.stats.stepSummary(),
    waitingRoom: r.stats.line.summary(),
  }
}

export function htmlReport(r: RunResult): string {
  const secs = r.stats.timeline()
  const steps = [...r.stats.byStep.keys()]
  const statusKeys = [...new Set(secs.flatMap((b) => Object.keys(b.statuses)))].sort()
  const charts = [
    lineChart('Arrivals', 'fans/s', [{ name: 'arrivals', values: secs.map((b) => b.arrivals) }]),
    lineChart('The line', 'fans', [
      { name: 'waiting', values: secs.map((b) => b.inLine) },
      { name: 'active', values: secs.map((b) => b.active) },
    ]),
    lineChart('Admissions and sales', 'cumulative', [
      { name: 'admitted', values: secs.map((b) => b.admitted) },
      { name: 'seats sold', values: secs.map((b) => b.sold) },
    ]),
    lineChart(
      'p95 latency per step',
      'ms',
      steps.map((step) => ({ name: step, values: secs.map((b) => b.p95[step] ?? 0) })),
    ),
    lineChart(
      'p99 latency per step',
      'ms',
      steps.map((step) => ({ name: step, values: secs.map((b) => b.p99[step] ?? 0) })),
    ),
    lineChart(
      'Status codes',
      'responses/s',
      statusKeys.map((k) => ({ name: k, values: secs.map((b) => b.statuses[k] ?? 0) })),
    ),
  ]
  const md = escape(markdownReport(r))
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(r.scenario.name)} load report</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;max-width:1000px}pre{background:#f6f6f6;padding:1rem;overflow:auto}figure{margin:1rem 0}</style></head>
<body><h1>${escape(r.scenario.name)}: ${r.thresholdFailures.length === 0 && (r.reconcile?.ok ?? true) ? 'passed' : 'FAILED'}</h1>
<pre>${md}</pre>${charts.join('\n')}</body></html>\n`
}
