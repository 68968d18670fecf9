import { createConcert } from '@tickets/booking-service/ops'
import { stopLater } from './cleanup.js'
import type { Incident } from './incidents.js'
import { judge } from './judge.js'
import type { Check, CommandRun, DrillContext, DrillMode } from './modes.js'
import { startProbe, type Outcome } from './probe.js'
import { startPrometheus, type PrometheusAlert } from './prometheus.js'
import { checkMoney, pickTraces, type PickedTrace } from './settle.js'
import { startDrillStack } from './stack.js'
import { loadAverage, runCommand, sleep, waitFor } from './waits.js'

export interface DrillResult {
  incident: Incident
  mode: DrillMode
  rulesNote: string
  timeline: { at: number; what: string }[]
  commands: CommandRun[]
  outcomes: Outcome[]
  checks: Check[]
  alert?: PrometheusAlert
  traces: PickedTrace[]
  /** The JSON lines the services logged at level 50 (error), in order. */
  errorLines: string[]
  startedAt: number
  faultAt: number
  recoveredAt?: number
  paid: number
}

const WARM_UP_MS = 10_000

/**
 * When every instance's dependency health (its admin listener's /health/dependencies) answered UP,
 * polled from now until stop(). The mitigation's steps after the cause is removed (an ops command
 * after `kill -CONT`, each a Node start-up of a second or more on a busy machine) then do not count
 * as the system's time to recover. Readiness would not do: it stays 200 through a dependency's outage.
 */
function watchDependencies(adminUrls: string[]) {
  const readyAt: number[] = []
  let stopped = false
  const up = (admin: string) =>
    fetch(`${admin}/health/dependencies`, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    )
  const done = (async () => {
    while (!stopped) {
      if ((await Promise.all(adminUrls.map(up))).every(Boolean)) readyAt.push(Date.now())
      await sleep(100)
    }
  })()
  return {
    firstSince: (t: number) => readyAt.find((at) => at >= t),
    stop: async () => {
      stopped = true
      await done
    },
  }
}

const matches = (a: PrometheusAlert, incident: Incident) =>
  a.labels.alertname === incident.alert.name && Object.entries(incident.alert.labels ?? {}).every(([k, v]) => a.labels[k] === v)

/** What a drill did so far: enough for a report when it overruns, and what to stop. */
interface SoFar {
  timeline: DrillResult['timeline']
  commands: CommandRun[]
  outcomes: Outcome[]
  faultAt?: number
  stops: (() => Promise<void>)[]
}

/**
 * The longest a drill may take: the sum of the deadlines of its waits (the stack up, every target
 * scraped, warm-up and calm, the alert, recovery, resolution, money settled, traces), plus time for
 * the runbook's commands (each stopped after 60 s).
 */
export function drillBudgetMs(incident: Incident, mode: DrillMode): number {
  const start = 120_000 + 60_000
  const traffic = WARM_UP_MS + (incident.calmMs?.(mode) ?? mode.calmMs) + mode.calmMs
  const fault = incident.alertWithinMs(mode) + Math.max(incident.recovery.withinMs * 3, 30_000) + incident.resolveWithinMs(mode)
  const settle = 30_000 + 2 * 10_000
  const commands = 5 * 60_000
  return start + traffic + fault + settle + commands
}

const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`

/**
 * One drill, start to end: a stack of its own, a real Prometheus, the probe, the fault, the alert,
 * the runbook's mitigation, recovery, the alert resolving, and the money and seats checked. A drill
 * always ends: past its budget everything it started is stopped and it is reported as failed.
 */
export async function runDrill(incident: Incident, mode: DrillMode, log: (line: string) => void = () => undefined): Promise<DrillResult> {
  const startedAt = Date.now()
  const budgetMs = drillBudgetMs(incident, mode)
  const soFar: SoFar = { timeline: [], commands: [], outcomes: [], stops: [] }
  const body = drill(incident, mode, log, soFar)
  let timer: NodeJS.Timeout | undefined
  const overrun = new Promise<'overrun'>((resolve) => (timer = setTimeout(() => resolve('overrun'), budgetMs)))
  const first = await Promise.race([body.then((result) => ({ result })), overrun])
  clearTimeout(timer)
  const name = `the drill ended within its budget of ${minutes(budgetMs)}`
  if (first !== 'overrun') {
    const took = Date.now() - startedAt
    first.result.checks.push({ name, ok: true, detail: `took ${minutes(took)} (margin ${minutes(budgetMs - took)})` })
    return first.result
  }
  soFar.timeline.push({ at: Date.now(), what: `OVERRAN its budget of ${minutes(budgetMs)}: stopping everything it started` })
  log(`[${incident.id}] overran its budget of ${minutes(budgetMs)}; stopping everything it started`)
  await Promise.all(soFar.stops.map((stop) => stop().catch(() => undefined)))
  const late = await Promise.race([body.catch(() => undefined), sleep(30_000).then(() => undefined)])
  const result: DrillResult = late ?? {
    incident,
    mode,
    rulesNote: '(the drill did not get that far)',
    timeline: soFar.timeline,
    commands: soFar.commands,
    outcomes: soFar.outcomes,
    checks: [],
    traces: [],
    errorLines: [],
    startedAt,
    faultAt: soFar.faultAt ?? startedAt,
    paid: 0,
  }
  result.checks.push({ name, ok: false, detail: `still running after ${minutes(budgetMs)}; everything it started was stopped` })
  return result
}

async function drill(incident: Incident, mode: DrillMode, log: (line: string) => void, soFar: SoFar): Promise<DrillResult> {
  const startedAt = Date.now()
  const { timeline, commands } = soFar
  const note = (what: string) => {
    timeline.push({ at: Date.now(), what })
    log(`[${incident.id}] ${what}`)
  }
  note('starting throw-away MariaDB, Redis and NATS, and the services as npm start runs them')
  const stack = await startDrillStack({ scale: incident.scale, extraEnv: incident.env?.(mode), log: (l) => log(`[${incident.id}] npm start: ${l}`) })
  const stopStack = stopLater(`the drill stack ${stack.tag}`, () => stack.stop())
  soFar.stops.push(stopStack)
  let stopPrometheus: (() => Promise<void>) | undefined
  let stopProbe: (() => Promise<void>) | undefined
  try {
    const prometheus = await startPrometheus({ targetsDir: stack.targetsDir, timeFactor: mode.timeFactor, scrapeSeconds: mode.scrapeSeconds })
    stopPrometheus = stopLater('Prometheus', () => prometheus.stop())
    soFar.stops.push(stopPrometheus)
    const { concertId } = await createConcert(stack.bookingDb, { title: `Drill ${incident.id}`, dates: 4, seatsPerSchedule: 200 })
    const ctx: DrillContext = {
      stack,
      prometheus,
      mode,
      concertId,
      note,
      async sh(command, args, env) {
        const r = await runCommand(command, args, env)
        commands.push(r)
        log(`[${incident.id}] $ ${r.command} -> exit ${r.exitCode}${r.output ? `: ${r.output.split('\n').slice(0, 3).join(' | ')}` : ''}`)
        return r
      },
      ops(args) {
        return this.sh(process.execPath, ['ops/dist/cli.js', ...args], stack.opsEnv)
      },
    }
    // Every target scraped once and nothing firing: the baseline the fault is measured against.
    const ready = await waitFor(async () => {
      const targets = (await (await fetch(`${prometheus.url}/api/v1/targets`, { signal: AbortSignal.timeout(5_000) })).json()) as { data: { activeTargets: { health: string }[] } }
      const t = targets.data.activeTargets
      return t.length >= 4 && t.every((x) => x.health === 'up') ? true : undefined
    }, 60_000)
    if (!ready) throw new Error('Prometheus did not scrape every instance of the drill stack within 60 s')
    note(`Prometheus scrapes ${stack.targetsDir} every ${mode.scrapeSeconds} s; rules: ${prometheus.rulesNote}`)

    const fans = incident.fans?.(mode) ?? mode.fans
    const readers = incident.readers?.(mode) ?? mode.readers
    const joiners = incident.joiners?.(mode) ?? 0
    // The probe waits longer than the hang bound, so that a slow answer is measured, not cut off.
    const timeoutMs = Math.max(5_000, (incident.hangMs ?? 0) + 1_000)
    const probe = startProbe({ gateway: stack.gateway, concertId, fans, readers, joiners, userToken: stack.userToken, timeoutMs })
    stopProbe = stopLater('the probe', () => probe.stop())
    soFar.stops.push(stopProbe)
    soFar.outcomes = probe.outcomes
    note(`probe started: ${fans} fans (join, poll, dates, seat map, hold, pay), ${readers} catalogue readers${joiners ? ` and ${joiners} storm clients (join, leave, again)` : ''}`)
    // Fresh processes compile and connect on their first requests (a second or more on 2 busy cores);
    // a production stack is warm, so the probe's first seconds are not judged.
    await sleep(WARM_UP_MS)
    probe.outcomes.splice(0, probe.outcomes.length)
    note(`warm-up over (${WARM_UP_MS / 1000} s, not judged): from here every request counts`)
    await sleep(incident.calmMs?.(mode) ?? mode.calmMs)
    const paidBefore = probe.paid.length

    const firingBefore = (await prometheus.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname)
    const faultAt = Date.now()
    soFar.faultAt = faultAt
    note(`fault injected: ${await incident.inject(ctx)} (machine load average ${await loadAverage()})`)
    const alertWithinMs = incident.alertWithinMs(mode)
    const alert = await waitFor(async () => (await prometheus.alerts()).find((a) => matches(a, incident) && a.state === 'firing'), alertWithinMs, 500)
    const alertAt = alert ? Date.now() : undefined
    if (alert) note(`alert fired: ${alert.labels.alertname} ${JSON.stringify(alert.labels)} (active since ${alert.activeAt})`)
    else note(`alert ${incident.alert.name} did not fire within ${alertWithinMs / 1000} s`)
    const extra = incident.whileFiring ? await incident.whileFiring(ctx) : undefined
    if (extra) note(extra)

    const mitigationAt = Date.now()
    note(`mitigation (runbook ${incident.runbook}): ${incident.mitigation}`)
    const readiness = watchDependencies(stack.adminUrls)
    const mitigated = await incident.mitigate(ctx)
    note(`mitigation ${mitigated.ok ? 'did what the runbook says' : 'FAILED'}: ${mitigated.detail}`)

    // Recovered: every dependency answered UP, and a hold sent after the fix was answered 201, both
    // from the fix on (whichever came last), even while the mitigation's later steps still ran.
    const fixedAt = mitigated.fixedAt ?? mitigationAt
    const recoveredAt = await waitFor(
      async () => {
        const readyAt = readiness.firstSince(fixedAt)
        const heldAt = probe.outcomes.filter((o) => o.step === 'hold' && o.status === 201 && o.at >= fixedAt).map((o) => o.at + o.ms)
        return readyAt !== undefined && heldAt.length > 0 ? Math.max(readyAt, Math.min(...heldAt)) : undefined
      },
      Math.max(incident.recovery.withinMs * 3, 30_000),
      100,
    )
    await readiness.stop()
    const since = mitigated.fixedAt ? 'the cause was removed' : 'the mitigation'
    if (recoveredAt) note(`recovered: every dependency UP and a seat held again, ${((recoveredAt - fixedAt) / 1000).toFixed(1)} s after ${since}`)
    else note('NOT recovered: a dependency still DOWN or no seat held')

    const resolved = alert
      ? await waitFor(async () => ((await prometheus.alerts()).some((a) => matches(a, incident)) ? undefined : Date.now()), incident.resolveWithinMs(mode), 500)
      : undefined
    if (resolved) note(`alert resolved: ${incident.alert.name} no longer pending or firing`)
    await sleep(mode.calmMs)
    await stopProbe()
    note(`probe stopped: ${probe.outcomes.length} requests, ${probe.paid.length} payments answered 201 (machine load average ${await loadAverage()})`)

    const own = (await incident.finish?.(ctx)) ?? []
    const money = await checkMoney(ctx, probe)
    note(`reconcile: ${money.reconcile.exitCode === 0 ? 'clean' : 'VIOLATIONS'}`)

    const checks = judge({
      incident,
      mode,
      outcomes: probe.outcomes,
      faultAt,
      recoveredAt,
      mitigationAt,
      fixedAt,
      alert,
      alertAt,
      alertWithinMs,
      resolved,
      resolveWithinMs: incident.resolveWithinMs(mode),
      mitigated,
      paidBefore,
      paidAfter: probe.paid.length,
      firingBefore,
    })
    checks.push(...own, ...money.checks)
    const traces = await pickTraces(ctx, probe.outcomes, faultAt)
    return {
      incident,
      mode,
      rulesNote: prometheus.rulesNote,
      timeline,
      commands,
      outcomes: probe.outcomes,
      checks,
      alert,
      traces,
      errorLines: stack.output.filter((l) => l.includes('"level":50')),
      startedAt,
      faultAt,
      recoveredAt,
      paid: probe.paid.length,
    }
  } finally {
    await stopProbe?.()
    await stopPrometheus?.()
    await stopStack()
  }
}
