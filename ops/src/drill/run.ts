import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createConcert } from '@tickets/booking-service/ops'
import { readPaymentFacts } from '@tickets/payment-service/ops'
import { readBookingFacts } from '../actions/booking-facts.js'
import type { Incident } from './incidents.js'
import { startProbe, type Outcome, type Probe } from './probe.js'
import { startPrometheus, type DrillPrometheus, type PrometheusAlert } from './prometheus.js'
import { repoRoot, startDrillStack, type DrillStack } from './stack.js'

export interface DrillMode {
  name: 'fast' | 'full' | 'ci'
  /** How many times the alert rules' time is compressed (1 in full mode: the real rules). */
  timeFactor: number
  scrapeSeconds: number
  /** Steady traffic before the fault and after recovery. */
  calmMs: number
  fans: number
  readers: number
  /** An answer slower than this is a hang; a 503 slower than `fast503Ms` is not a fast refusal. */
  hangMs: number
  fast503Ms: number
}

const MANUAL_BOUNDS = { hangMs: 1_000, fast503Ms: 250 }

export const MODES: Record<'fast' | 'full' | 'ci', DrillMode> = {
  // Scrapes every 2 s at the least: a scrape asks every dependency for readiness (HEALTH_TIMEOUT_MS, 1 s)
  // and a scrape timeout under that loses the dependency_up sample whenever one hangs.
  fast: { name: 'fast', timeFactor: 12, scrapeSeconds: 2, calmMs: 8_000, fans: 6, readers: 2, ...MANUAL_BOUNDS },
  full: { name: 'full', timeFactor: 1, scrapeSeconds: 5, calmMs: 30_000, fans: 8, readers: 2, ...MANUAL_BOUNDS },
  // npm test: fast mode while other packages' tests share the two cores. Scheduling alone then adds
  // hundreds of ms to a fast answer, so the latency bounds are four times the manual's; every other
  // check (5xx, alert, mitigation, recovery, money and seats) is the same. `npm run drill` keeps the manual's.
  ci: { name: 'ci', timeFactor: 12, scrapeSeconds: 2, calmMs: 8_000, fans: 6, readers: 2, hangMs: 4_000, fast503Ms: 1_000 },
}

export interface CommandRun {
  command: string
  exitCode: number
  output: string
  at: number
}

export interface DrillContext {
  stack: DrillStack
  prometheus: DrillPrometheus
  mode: DrillMode
  concertId: string
  /** Runs a command for real (as an operator would type it) and records it. */
  sh(command: string, args: string[], env?: Record<string, string>): Promise<CommandRun>
  /** `npm run ops -- <args>` against this stack (node ops/dist/cli.js, as the npm script runs it). */
  ops(args: string[]): Promise<CommandRun>
  note(what: string): void
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface DrillResult {
  incident: Incident
  mode: DrillMode
  rulesNote: string
  timeline: { at: number; what: string }[]
  commands: CommandRun[]
  outcomes: Outcome[]
  checks: Check[]
  alert?: PrometheusAlert
  traces: { traceId: string; why: string; waterfall: string }[]
  /** The JSON lines the services logged at level 50 (error), in order. */
  errorLines: string[]
  startedAt: number
  faultAt: number
  recoveredAt?: number
  paid: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const WARM_UP_MS = 10_000

/** The 1-minute load average: latencies on a shared 2-core machine mean little without it. */
async function loadAverage(): Promise<string> {
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

async function waitFor<T>(what: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await what().catch(() => undefined)
    if (v !== undefined) return v
    await sleep(everyMs)
  }
  return undefined
}

/**
 * When the gateway answered ready, polled from now until stop(). The mitigation's steps after the
 * cause is removed (an ops command after `kill -CONT`, each a Node start-up of a second or more on a
 * busy machine) then do not count as the system's time to recover.
 */
function watchReadiness(gateway: string) {
  const readyAt: number[] = []
  let stopped = false
  const done = (async () => {
    while (!stopped) {
      const ok = await fetch(`${gateway}/health/ready`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) readyAt.push(Date.now())
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

/**
 * One drill, start to end: a stack of its own, a real Prometheus, the probe, the fault, the alert,
 * the runbook's mitigation, recovery, the alert resolving, and the money and seats checked.
 */
export async function runDrill(incident: Incident, mode: DrillMode, log: (line: string) => void = () => undefined): Promise<DrillResult> {
  const startedAt = Date.now()
  const timeline: DrillResult['timeline'] = []
  const commands: CommandRun[] = []
  const note = (what: string) => {
    timeline.push({ at: Date.now(), what })
    log(`[${incident.id}] ${what}`)
  }
  note('starting throw-away MariaDB, Redis and NATS, and the services as npm start runs them')
  const stack = await startDrillStack({ scale: incident.scale, extraEnv: incident.env?.(mode), log: (l) => log(`[${incident.id}] npm start: ${l}`) })
  let prometheus: DrillPrometheus | undefined
  let probe: Probe | undefined
  try {
    prometheus = await startPrometheus({ targetsDir: stack.targetsDir, timeFactor: mode.timeFactor, scrapeSeconds: mode.scrapeSeconds })
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
      const targets = (await (await fetch(`${prometheus!.url}/api/v1/targets`)).json()) as { data: { activeTargets: { health: string }[] } }
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
    probe = startProbe({ gateway: stack.gateway, concertId, fans, readers, joiners, userToken: stack.userToken, timeoutMs })
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
    note(`fault injected: ${await incident.inject(ctx)} (machine load average ${await loadAverage()})`)
    const alertWithinMs = incident.alertWithinMs(mode)
    const alert = await waitFor(async () => (await prometheus!.alerts()).find((a) => matches(a, incident) && a.state === 'firing'), alertWithinMs, 500)
    const alertAt = alert ? Date.now() : undefined
    if (alert) note(`alert fired: ${alert.labels.alertname} ${JSON.stringify(alert.labels)} (active since ${alert.activeAt})`)
    else note(`alert ${incident.alert.name} did not fire within ${alertWithinMs / 1000} s`)
    const extra = incident.whileFiring ? await incident.whileFiring(ctx) : undefined
    if (extra) note(extra)

    const mitigationAt = Date.now()
    note(`mitigation (runbook ${incident.runbook}): ${incident.mitigation}`)
    const readiness = watchReadiness(stack.gateway)
    const mitigated = await incident.mitigate(ctx)
    note(`mitigation ${mitigated.ok ? 'did what the runbook says' : 'FAILED'}: ${mitigated.detail}`)

    // Recovered: the gateway answered ready, and a hold sent after the fix was answered 201, both
    // from the fix on (whichever came last), even while the mitigation's later steps still ran.
    const fixedAt = mitigated.fixedAt ?? mitigationAt
    const recoveredAt = await waitFor(
      async () => {
        const readyAt = readiness.firstSince(fixedAt)
        const heldAt = probe!.outcomes.filter((o) => o.step === 'hold' && o.status === 201 && o.at >= fixedAt).map((o) => o.at + o.ms)
        return readyAt !== undefined && heldAt.length > 0 ? Math.max(readyAt, Math.min(...heldAt)) : undefined
      },
      Math.max(incident.recovery.withinMs * 3, 30_000),
      100,
    )
    await readiness.stop()
    const since = mitigated.fixedAt ? 'the cause was removed' : 'the mitigation'
    if (recoveredAt) note(`recovered: the gateway ready and a seat held again, ${((recoveredAt - fixedAt) / 1000).toFixed(1)} s after ${since}`)
    else note('NOT recovered: no readiness and no seat held')

    const resolved = alert
      ? await waitFor(async () => ((await prometheus!.alerts()).some((a) => matches(a, incident)) ? undefined : Date.now()), incident.resolveWithinMs(mode), 500)
      : undefined
    if (resolved) note(`alert resolved: ${incident.alert.name} no longer pending or firing`)
    await sleep(mode.calmMs)
    await probe.stop()
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
      resolved,
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
    await probe?.stop()
    await prometheus?.stop()
    await stack.stop()
  }
}

interface Judged {
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
  resolved: number | undefined
  mitigated: { ok: boolean; detail: string }
  paidBefore: number
  paidAfter: number
  firingBefore: (string | undefined)[]
}

function judge(j: Judged): Check[] {
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
          ? `slowest ${Math.round(Math.max(...outcomes.map((o) => o.ms)))} ms`
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
          : `${dependency503.length} answered 503 during the fault; ${slow503.length} took ${fast503Ms} ms or more or had no Retry-After${slow503.length ? ` (${tally(slow503)}); the slowest: ${worst(slow503.sort((a, b) => b.ms - a.ms))}` : ''}`,
    },
    {
      name: `alert ${incident.alert.name} fired in Prometheus`,
      ok: j.alert !== undefined && !j.firingBefore.includes(incident.alert.name),
      detail: j.alert && j.alertAt ? `seen firing ${((j.alertAt - j.faultAt) / 1000).toFixed(1)} s after the fault (pending since ${j.alert.activeAt})` : 'never fired',
    },
    {
      name: `alert ${incident.alert.name} resolved afterwards`,
      ok: j.resolved !== undefined,
      detail: j.resolved ? `${((j.resolved - j.mitigationAt) / 1000).toFixed(1)} s after the mitigation` : 'still active',
    },
    { name: "the runbook's mitigation did what the runbook says", ok: j.mitigated.ok, detail: j.mitigated.detail },
    {
      name: `recovered within ${incident.recovery.withinMs / 1000} s (${incident.recovery.why})`,
      ok: j.recoveredAt !== undefined && j.recoveredAt - j.fixedAt <= incident.recovery.withinMs,
      detail: j.recoveredAt
        ? `${((j.recoveredAt - j.fixedAt) / 1000).toFixed(1)} s after ${j.fixedAt === j.mitigationAt ? 'the mitigation' : 'the cause was removed (a step of the mitigation)'}`
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

/** Every payment the probe was told succeeded is CONFIRMED or refunded, none charged twice, and `reconcile` (run for real) is clean. */
async function checkMoney(ctx: DrillContext, probe: Probe): Promise<{ reconcile: { exitCode: number }; checks: Check[] }> {
  // Confirmations travel by the outbox and NATS: give them the time they take.
  let lost: string[] = []
  await waitFor(
    async () => {
      const payments = (await readPaymentFacts(ctx.stack.paymentDb, { outboxMaxAgeSeconds: 60 })).payments
      const reservations = (await readBookingFacts(ctx.stack.bookingDb, { holdGraceSeconds: 30, outboxMaxAgeSeconds: 60 })).reservations
      const byId = new Map(payments.map((p) => [p.paymentId, p]))
      const status = new Map(reservations.map((r) => [r.reservationId, r.status]))
      lost = probe.paid.flatMap((p) => {
        const payment = byId.get(p.paymentId)
        if (!payment) return [`payment ${p.paymentId} answered 201 but is not in the payment database`]
        if (payment.status === 'REFUNDED') return []
        if (payment.status === 'COMPLETED' && status.get(p.reservationId) === 'CONFIRMED') return []
        return [`payment ${p.paymentId} is ${payment.status} and reservation ${p.reservationId} is ${status.get(p.reservationId) ?? 'missing'}`]
      })
      return lost.length === 0 ? true : undefined
    },
    30_000,
    1_000,
  )
  const reconcile = await ctx.ops(['reconcile'])
  return {
    reconcile,
    checks: [
      {
        name: 'nothing lost: every payment answered 201 is CONFIRMED or refunded',
        ok: lost.length === 0 && probe.paid.length > 0,
        detail: lost.length === 0 ? `${probe.paid.length} of ${probe.paid.length}` : `${lost.length} not settled after 30 s: ${lost.slice(0, 3).join('; ')}`,
      },
      {
        name: '`npm run ops -- reconcile` clean (none charged twice, seats and money agree)',
        ok: reconcile.exitCode === 0,
        detail: reconcile.output.split('\n').slice(0, 5).join(' / '),
      },
    ],
  }
}

/** The first failed request after the fault and the slowest request, with their waterfalls from the spans the services wrote. */
async function pickTraces(ctx: DrillContext, outcomes: Outcome[], faultAt: number): Promise<DrillResult['traces']> {
  const failed = outcomes.filter((o) => o.at >= faultAt && o.status >= 500 && o.traceId).sort((a, b) => a.at - b.at)[0]
  const slowest = [...outcomes].filter((o) => o.traceId).sort((a, b) => b.ms - a.ms)[0]
  const picks: [Outcome | undefined, string][] = [
    [failed, 'the first failed request after the fault'],
    [slowest, 'the slowest request of the run'],
  ]
  const traces: DrillResult['traces'] = []
  for (const [pick, what] of picks) {
    if (!pick?.traceId || traces.some((t) => t.traceId === pick.traceId)) continue
    // Spans are exported in batches: wait for this one's to reach the file.
    let waterfall = ''
    await waitFor(
      async () => {
        const r = await runCommand(process.execPath, ['ops/dist/cli.js', 'trace', pick.traceId!], ctx.stack.opsEnv)
        waterfall = r.output
        return r.exitCode === 0 ? true : undefined
      },
      10_000,
      1_000,
    )
    traces.push({
      traceId: pick.traceId,
      why: `${what}: ${pick.step} answered ${pick.status} ${pick.code ?? ''} in ${Math.round(pick.ms)} ms, at +${((pick.at - faultAt) / 1000).toFixed(1)} s`,
      waterfall,
    })
  }
  return traces
}
