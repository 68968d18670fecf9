import type { Incident } from './incidents.js'
import type { Check, DrillMode } from './modes.js'
import type { Outcome } from './probe.js'
import type { PrometheusAlert } from './prometheus.js'

export interface Judged {
  incident: Incident
  mode: DrillMode
  outcomes: Outcome[]
  faultAt: number
  mitigationAt: number
  /** When the cause was removed (the mitigation's start unless it said otherwise): recovery counts from here. */
  fixedAt: number
  recoveredAt: number | undefined
  alert: PrometheusAlert | undefined
  alertAt: number | undefined
  alertWithinMs: number
  resolved: number | undefined
  resolveWithinMs: number
  mitigated: { ok: boolean; detail: string }
  paidBefore: number
  paidAfter: number
  firingBefore: (string | undefined)[]
}

/** How far a measured figure stayed from its bound: " (bound 4 s, margin 3.2 s)". */
function margin(boundMs: number, measuredMs: number): string {
  return ` (bound ${boundMs / 1000} s, margin ${((boundMs - measuredMs) / 1000).toFixed(1)} s)`
}

export function judge(j: Judged): Check[] {
  const { incident, outcomes } = j
  const errors = outcomes.filter((o) => o.status >= 500 && o.status !== 503)
  const { fast503Ms } = j.mode
  const hangMs = Math.max(j.mode.hangMs, incident.hangMs ?? 0)
  const hung = outcomes.filter((o) => o.status === 0 || o.ms >= hangMs)
  const during = (o: Outcome) => o.at >= j.faultAt && o.at <= (j.recoveredAt ?? Infinity)
  const dependency503 = outcomes.filter((o) => o.status === 503 && during(o))
  const slow503 = dependency503.filter((o) => o.ms >= fast503Ms || !(Number(o.retryAfter) > 0))
  const label = (o: Outcome) => `${o.step} ${o.status || o.error}`
  const worst = (list: Outcome[]) =>
    list
      .map((o) => `${label(o)} in ${Math.round(o.ms)} ms`)
      .slice(0, 5)
      .join('; ')
  /** How many of each step and answer, most first: "pay 201 × 12, hold 503 × 3". */
  const tally = (list: Outcome[]) => {
    const counts = new Map<string, number>()
    for (const o of list) counts.set(label(o), (counts.get(label(o)) ?? 0) + 1)
    return [...counts]
      .sort((a, b) => b[1] - a[1])
      .map(([what, n]) => `${what} × ${n}`)
      .join(', ')
  }
  const checks: Check[] = [
    { name: 'no 500 or 502 (no 5xx but 503)', ok: errors.length === 0, detail: errors.length === 0 ? `none in ${outcomes.length} requests` : `${errors.length}: ${worst(errors)}` },
    {
      name: `no hang: every answer within ${hangMs / 1000} s`,
      ok: hung.length === 0,
      detail:
        hung.length === 0
          ? `slowest ${Math.round(Math.max(...outcomes.map((o) => o.ms)))} ms${margin(hangMs, Math.max(...outcomes.map((o) => o.ms)))}`
          : `${hung.length} over ${hangMs / 1000} s or unanswered (${tally(hung)}); the slowest: ${worst(hung.sort((a, b) => b.ms - a.ms))}`,
    },
    {
      name: `the dependency failure answered 503 with Retry-After within ${fast503Ms} ms`,
      ok: slow503.length === 0 && (dependency503.length > 0 || !incident.expects503),
      detail:
        dependency503.length === 0
          ? incident.expects503
            ? 'no 503 seen: the fault did not reach a request'
            : 'no 503 needed'
          : `${dependency503.length} answered 503 during the fault; ${slow503.length} took ${fast503Ms} ms or more or had no Retry-After${slow503.length ? ` (${tally(slow503)}); the slowest: ${worst(slow503.sort((a, b) => b.ms - a.ms))}` : `; the slowest in ${Math.round(Math.max(...dependency503.map((o) => o.ms)))} ms${margin(fast503Ms, Math.max(...dependency503.map((o) => o.ms)))}`}`,
    },
    {
      name: `alert ${incident.alert.name} fired in Prometheus`,
      ok: j.alert !== undefined && !j.firingBefore.includes(incident.alert.name),
      detail: j.firingBefore.includes(incident.alert.name)
        ? 'already firing before the fault: the drill cannot tell what fired it'
        : j.alert && j.alertAt
          ? `seen firing ${((j.alertAt - j.faultAt) / 1000).toFixed(1)} s after the fault (pending since ${j.alert.activeAt})${margin(j.alertWithinMs, j.alertAt - j.faultAt)}`
          : `never fired within ${j.alertWithinMs / 1000} s`,
    },
    {
      name: `alert ${incident.alert.name} resolved afterwards`,
      ok: j.resolved !== undefined,
      detail: j.resolved ? `${((j.resolved - j.mitigationAt) / 1000).toFixed(1)} s after the mitigation` : `still active after ${j.resolveWithinMs / 1000} s`,
    },
    { name: "the runbook's mitigation did what the runbook says", ok: j.mitigated.ok, detail: j.mitigated.detail },
    {
      name: `recovered within ${incident.recovery.withinMs / 1000} s (${incident.recovery.why})`,
      ok: j.recoveredAt !== undefined && j.recoveredAt - j.fixedAt <= incident.recovery.withinMs,
      detail: j.recoveredAt
        ? `${((j.recoveredAt - j.fixedAt) / 1000).toFixed(1)} s after ${j.fixedAt === j.mitigationAt ? 'the mitigation' : 'the cause was removed (a step of the mitigation)'}${margin(incident.recovery.withinMs, j.recoveredAt - j.fixedAt)}`
        : 'never',
    },
    {
      name: 'sales went on before the fault and after recovery',
      ok: j.paidBefore > 0 && outcomes.some((o) => o.step === 'pay' && o.status === 201 && o.at > (j.recoveredAt ?? Infinity)),
      detail: `${j.paidBefore} payments before the fault, ${j.paidAfter} in all`,
    },
  ]
  return checks
}
