import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { signUserToken } from '@tickets/contracts/auth'
import { resolveJwtSecret } from '@tickets/ops/dev-secret'
import { arrivalTimes, SCENARIOS, totalSeconds, type ScenarioName } from '../scenarios.js'
import { createClient } from './client.js'
import { startCpuMeter } from './cpu-meter.js'
import { runId, runJourney, type JourneyContext } from './journeys.js'
import { createConcert, openConcertAt, ops } from './ops-commands.js'
import { readPublishedDraw } from './published-draw.js'
import { rehearse } from './rehearsal.js'
import { htmlReport, jsonReport, markdownReport, type RunResult } from './report.js'
import { Stats } from './stats.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))

function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value)
  if (!m) throw new Error(`"${value}" is not a duration (e.g. 60s, 5m)`)
  const n = Number(m[1])
  return m[2] === 'ms' ? n / 1000 : m[2] === 'm' ? n * 60 : n
}

function mulberry32(seed: number) {
  return () => {
    seed |= 0
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function residentMemoryMb(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1_000) })).text()
    const m = /^process_resident_memory_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text)
    return m ? Number(m[1]) / 1024 / 1024 : null
  } catch {
    return null
  }
}

const USAGE = `usage: npm run load -- <ticket-open|ticket-open-pre-queue|token-storm|browse|soak> [options]
  --users N          fans (ticket-open; default 20000)
  --ramp 60s         arrival ramp (ticket-open; default 60s; with the pre-queue, the opening is half-way)
  --rate N           peak arrivals per second (token-storm, browse, soak)
  --duration 60s     run length (token-storm, browse, soak)
  --base-url URL     the gateway (default http://127.0.0.1:8080)
  --concert ID       the concert fans queue for (default: a new one, put on sale for this run)
  --metrics URLS     comma-separated admin listener URLs (each process's ADMIN_PORT) whose resident memory is sampled
  --warmup N         fans who first buy on a concert of their own, uncounted (default 200; 0: none)
  --no-reconcile     skip npm run ops -- reconcile afterwards
  --seed N           random seed (default 1)
  --connections N    keep-alive connections to the gateway (default 512); a request finding them all
                     busy waits in the runner, which no server can see or shed`

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      users: { type: 'string' },
      ramp: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'base-url': { type: 'string', default: 'http://127.0.0.1:8080' },
      concert: { type: 'string' },
      metrics: { type: 'string', default: 'http://127.0.0.1:9080,http://127.0.0.1:9090,http://127.0.0.1:9081,http://127.0.0.1:9082,http://127.0.0.1:9083' },
      warmup: { type: 'string', default: '200' },
      'no-reconcile': { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      connections: { type: 'string', default: '512' },
      out: { type: 'string', default: join(root, 'loadtest', 'reports') },
    },
  })
  const name = positionals[0] as ScenarioName | undefined
  if (!name || !(name in SCENARIOS)) {
    console.error(USAGE)
    return 2
  }
  const scenario = SCENARIOS[name]({
    users: values.users ? Number(values.users) : undefined,
    rampSeconds: seconds(values.ramp),
    rate: values.rate ? Number(values.rate) : undefined,
    durationSeconds: seconds(values.duration),
  })
  if (!/^\d+$/.test(values.warmup)) {
    console.error(`--warmup must be a whole number of fans, not "${values.warmup}"`)
    return 2
  }
  const warmupFans = Number(values.warmup)
  if (!/^[1-9]\d*$/.test(values.connections)) {
    console.error(`--connections must be a whole number above 0, not "${values.connections}"`)
    return 2
  }
  const baseUrl = values['base-url'].replace(/\/$/, '')
  const up = await fetch(`${baseUrl}/health`).then(
    (r) => r.ok,
    () => false,
  )
  if (!up) {
    console.error(`The gateway at ${baseUrl} does not answer: start the system with \`npm start\` (TRUSTED_PROXIES=127.0.0.0/8) first.`)
    return 1
  }
  const secret = resolveJwtSecret(process.env)
  let concertId = values.concert
  if (!concertId) {
    // A fresh concert per run, so seats sold by an earlier run do not change this one.
    try {
      concertId = createConcert(`Load run ${name}`, scenario.house)
    } catch (err) {
      console.error((err as Error).message)
      return 1
    }
    console.error(`concert ${concertId} put on sale for this run`)
  }
  // The manual's D-1 step (3.4.1): the catalogue and every date in the cache before the doors open.
  const warmed = ops(['warm-cache'])
  console.error(warmed.ok ? warmed.lastLine : `warm-cache failed, the run starts with a cold cache: ${warmed.output.trim()}`)
  const run = runId()
  const rehearsal = warmupFans > 0 ? await rehearse({ baseUrl, secret, scenario, fans: warmupFans, run }) : null
  if (rehearsal) console.error(`warm-up: ${rehearsal.fans} fans bought ${rehearsal.sold} seats on a concert of their own in ${rehearsal.seconds.toFixed(1)} s (not counted)`)
  const stats = new Stats()
  const client = createClient(baseUrl, stats, { connections: Number(values.connections) })
  const arrivals = arrivalTimes(scenario.stages)
  const random = mulberry32(Number(values.seed))
  // The opening is set as the run starts (the warm-up took its time): fans before it are pre-queued.
  if (scenario.preQueue) {
    try {
      openConcertAt(concertId, new Date(Date.now() + scenario.preQueue.opensAtSeconds * 1000))
    } catch (err) {
      console.error((err as Error).message)
      return 1
    }
  }
  const startedAt = new Date()
  const cpuMeter = startCpuMeter()
  const deadline = Date.now() + (totalSeconds(scenario.stages) + (scenario.journey === 'buy' ? 600 : 30)) * 1000
  const ctx: JourneyContext = { scenario, client, stats, concertId, deadline, random }
  const memory = new Map<string, number>()
  const metricsUrls = values.metrics.split(',').filter(Boolean)

  const tty = process.stderr.isTTY
  const progress = setInterval(
    async () => {
      const line = `t=${Math.floor((Date.now() - stats.startedAt) / 1000)}s arrivals=${stats.arrivals} in-line=${stats.inLine} active=${stats.active} sold=${stats.sold} req/s=${stats.recentRate().toFixed(0)} p95=${stats.recentP95().toFixed(0)}ms errors=${stats.unexpected}`
      process.stderr.write(tty ? `\r${line.padEnd(120)}` : `${line}\n`)
      for (const url of metricsUrls) {
        const mb = await residentMemoryMb(url)
        if (mb !== null) memory.set(url, Math.max(memory.get(url) ?? 0, mb))
      }
    },
    tty ? 1_000 : 5_000,
  )

  const journeys = new Set<Promise<void>>()
  const t0 = Date.now()
  for (let i = 0; i < arrivals.length; i++) {
    const due = t0 + arrivals[i]! * 1000
    const wait = due - Date.now()
    if (wait > 2) await new Promise((r) => setTimeout(r, wait))
    const userId = `lt-${run}-${i + 1}`
    const token = await signUserToken({ secret, userId, ttlSeconds: 3_600 })
    const ip = `10.${((i + 1) >> 16) & 255}.${((i + 1) >> 8) & 255}.${(i + 1) & 255}`
    stats.arrival()
    const p = runJourney(ctx, { userId, token, ip }).catch(() => undefined)
    journeys.add(p)
    void p.finally(() => journeys.delete(p))
  }
  await Promise.all(journeys)
  clearInterval(progress)
  if (tty) process.stderr.write('\n')
  await client.close()
  if (scenario.preQueue) stats.line.publishedDraw(await readPublishedDraw(baseUrl, concertId).catch(() => null))
  const durationSeconds = (Date.now() - stats.startedAt) / 1000
  const cpu = cpuMeter.perRequest(stats.requests)

  const thresholdFailures: string[] = []
  for (const s of stats.stepSummary()) {
    if (s.p95 > scenario.thresholds.p95Ms) thresholdFailures.push(`${s.step} p95 ${s.p95.toFixed(0)} ms > ${scenario.thresholds.p95Ms} ms`)
  }
  const errorRate = stats.unexpected / Math.max(1, stats.requests)
  if (errorRate > scenario.thresholds.errorRate) thresholdFailures.push(`unexpected errors ${(errorRate * 100).toFixed(3)}% > ${(scenario.thresholds.errorRate * 100).toFixed(2)}%`)

  let reconcile: RunResult['reconcile'] = null
  if (!values['no-reconcile']) {
    const r = ops(['reconcile'])
    reconcile = { ok: r.ok, output: r.output }
  }

  const result: RunResult = {
    scenario,
    stats,
    command: `npm run load -- ${argv.join(' ')}`,
    startedAt,
    durationSeconds,
    thresholdFailures,
    reconcile,
    memory: [...memory.entries()].map(([target, rssMb]) => ({ target, rssMb })),
    cpu,
    warmup: rehearsal,
    cacheWarmed: warmed.ok,
  }
  mkdirSync(values.out, { recursive: true })
  const stem = join(values.out, `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}`)
  writeFileSync(`${stem}.md`, markdownReport(result))
  writeFileSync(`${stem}.html`, htmlReport(result))
  writeFileSync(`${stem}.json`, `${JSON.stringify(jsonReport(result), null, 2)}\n`)
  process.stdout.write(markdownReport(result))
  console.log(`\nreport: ${stem}.md, ${stem}.html and ${stem}.json`)
  return thresholdFailures.length === 0 && (reconcile?.ok ?? true) ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(`load: ${err.message}`)
      process.exit(1)
    },
  )
}
