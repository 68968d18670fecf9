import type { Outcome } from './probe.js'
import type { DrillResult } from './run.js'

const STEPS = ['join', 'poll', 'catalogue', 'schedules', 'seats', 'hold', 'points', 'charge', 'pay', 'leave']

function impactTable(outcomes: Outcome[], from: number, to: number): string[] {
  const inWindow = outcomes.filter((o) => o.at >= from && o.at <= to)
  const statuses = [...new Set(inWindow.map((o) => o.status))].sort((a, b) => a - b)
  const label = (s: number) => (s === 0 ? 'no answer' : String(s))
  const rows = STEPS.filter((step) => inWindow.some((o) => o.step === step)).map((step) => {
    const mine = inWindow.filter((o) => o.step === step)
    const ms = mine.map((o) => o.ms).sort((a, b) => a - b)
    const p99 = ms[Math.min(ms.length - 1, Math.floor(ms.length * 0.99))] ?? 0
    return `| ${step} | ${mine.length} | ${statuses.map((s) => mine.filter((o) => o.status === s).length || '').join(' | ')} | ${Math.round(p99)} | ${Math.round(ms[ms.length - 1] ?? 0)} |`
  })
  return [`| step | requests | ${statuses.map(label).join(' | ')} | p99 ms | max ms |`, `| --- | --: | ${statuses.map(() => '--:').join(' | ')} | --: | --: |`, ...rows]
}

const clock = (t: number, t0: number) => `${new Date(t).toISOString().slice(11, 23)} (${t >= t0 ? '+' : '-'}${(Math.abs(t - t0) / 1000).toFixed(1)} s)`

/** A drill's report in the shape of the manual's post-mortem (section 7): summary, timeline, impact, cause, actions. */
export function renderReport(r: DrillResult, command: string): string {
  const passed = r.checks.every((c) => c.ok)
  const end = r.recoveredAt ?? r.timeline[r.timeline.length - 1]!.at
  const codes = new Map<string, number>()
  for (const o of r.outcomes.filter((o) => o.status >= 500 || o.status === 0)) {
    const key = `${o.status || 'no answer'} ${o.code ?? o.error ?? ''}`.trim()
    codes.set(key, (codes.get(key) ?? 0) + 1)
  }
  return [
    `# Drill ${r.incident.id}: ${r.incident.title}`,
    '',
    `Manual ${r.incident.section}; runbook [${r.incident.runbook}](../runbook.md#${r.incident.runbook}). ${passed ? '**Every check passed.**' : '**Some checks FAILED** (see below).'}`,
    '',
    `- Run: \`${command}\` (${r.mode.name} mode), ${new Date(r.startedAt).toISOString()}, on throw-away MariaDB, Redis and NATS.`,
    `- Alert rules: ${r.rulesNote}.`,
    `- Probe: ${r.outcomes.length} requests through the gateway; ${r.paid} payments answered 201.`,
    '',
    '## 1. Summary',
    '',
    `Fault: ${r.timeline.find((t) => t.what.startsWith('fault injected'))?.what.replace('fault injected: ', '') ?? '?'}. Expected alert: \`${r.incident.alert.name}\`${r.incident.alert.labels ? ` ${JSON.stringify(r.incident.alert.labels)}` : ''}. Mitigation: ${r.incident.mitigation}.`,
    '',
    '| check | result | detail |',
    '| --- | --- | --- |',
    ...r.checks.map((c) => `| ${c.name} | ${c.ok ? 'pass' : '**FAIL**'} | ${c.detail.replace(/\|/g, '/').replace(/\n/g, ' ')} |`),
    '',
    '## 2. Timeline',
    '',
    ...r.timeline.map((t) => `- ${clock(t.at, r.faultAt)} ${t.what}`),
    '',
    '## 3. Impact',
    '',
    `Requests from the fault to recovery (${((end - r.faultAt) / 1000).toFixed(1)} s), by step and status:`,
    '',
    ...impactTable(r.outcomes, r.faultAt, end),
    '',
    'The whole run:',
    '',
    ...impactTable(r.outcomes, 0, Infinity),
    '',
    codes.size > 0 ? `Failed answers by code: ${[...codes].map(([k, n]) => `${k} × ${n}`).join(', ')}.` : 'No request failed.',
    '',
    '## 4. Cause and trace',
    '',
    ...(r.traces.length === 0
      ? ['No request carried a trace id.', '']
      : r.traces.flatMap((t) => [`Trace \`${t.traceId}\`, ${t.why}:`, '', '```', t.waterfall || '(no spans of it reached the traces file)', '```', ''])),
    ...(r.errorLines.length === 0
      ? ['No service logged an error (level 50) during the run.', '']
      : [`The first of ${r.errorLines.length} error lines (level 50) the services logged:`, '', '```', ...r.errorLines.slice(0, 5).map((l) => l.slice(0, 1_500)), '```', '']),
    '## 5. Commands run',
    '',
    '```',
    ...r.commands.map((c) => `$ ${c.command}   # exit ${c.exitCode}${c.output ? `\n${c.output.split('\n').slice(0, 6).join('\n')}` : ''}`),
    '```',
    '',
    '## 6. Follow-up',
    '',
    passed
      ? '- None: the runbook held.'
      : r.checks
          .filter((c) => !c.ok)
          .map((c) => `- ${c.name}: ${c.detail}`)
          .join('\n'),
    '',
  ].join('\n')
}
