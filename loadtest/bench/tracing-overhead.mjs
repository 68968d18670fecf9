// npm run bench:tracing — catalogue reads on a real booking-service with tracing switched off,
// against the same with tracing configured and the OTLP collector unreachable (target: within 5%).
// Two more rows for the operator: a collector that answers, and one that goes away mid-run.
// Rounds rotate the order so drift on a shared machine hits every mode alike.
import { spawn } from 'node:child_process'
import { migrate, seedDemoCatalogue } from '@tickets/booking-service/ops'
import { asGateway, freePort, measure, printTable, root, startService } from './lib.mjs'

const db = `mysql://root@127.0.0.1:3306/tickets_bench_tracing`
await migrate(db)
await seedDemoCatalogue(db)
const base = { MYSQL_URL: db, REDIS_PREFIX: 'bench:tracing:', NATS_NAMESPACE: 'bench_tracing', OTEL_SERVICE_NAME: 'booking-service', TELEMETRY_PROBE_INTERVAL_MS: '1000' }
const path = '/api/concerts/01936b2e-0000-7000-8000-000000000001/schedules'
const rounds = Number(process.env.ROUNDS ?? 3)
const duration = Number(process.env.DURATION ?? 8)

/** An OTLP receiver in its own process (it parses every span it gets), so the load generator is not slowed by it. */
async function startCollector(port) {
  const script = `import('@tickets/testkit').then(async (t) => { await t.startOtlpReceiver({ port: ${port} }); process.stdout.write('up\\n') })`
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: `${root}shared`, stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve)
    child.once('exit', (code) => reject(new Error(`collector exited with ${code}`)))
  })
  return { stop: () => new Promise((resolve) => (child.once('exit', resolve), child.kill())) }
}

const MODES = {
  'tracing off (baseline)': { env: { OTEL_SDK_DISABLED: 'true' } },
  'tracing on, collector unreachable': { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' } },
  'tracing on, collector answering (every span exported)': { collector: 'up' },
  'tracing on, collector went away mid-run (paused)': { collector: 'leaves' },
}
const totals = Object.fromEntries(Object.keys(MODES).map((m) => [m, []]))
const names = Object.keys(MODES)
for (let i = 0; i < rounds; i++) {
  for (const name of [...names.slice(i % names.length), ...names.slice(0, i % names.length)]) {
    const mode = MODES[name]
    let collector
    let env = mode.env ?? {}
    if (mode.collector) {
      const port = await freePort()
      collector = await startCollector(port)
      env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` }
    }
    const svc = await startService('booking-service', { ...base, ...env })
    // Warm-up. A collector that leaves does so here: two failed exports later (about 2 s) tracing pauses.
    const headers = asGateway('GET', path)
    await measure(svc.url + path, { duration: 3, headers })
    if (mode.collector === 'leaves') await collector.stop()
    await measure(svc.url + path, { duration: 3, headers })
    totals[name].push(await measure(svc.url + path, { duration, headers }))
    await svc.stop()
    if (mode.collector === 'up') await collector.stop()
  }
}
const avg = (rs) => ({
  rps: rs.reduce((s, r) => s + r.rps, 0) / rs.length,
  p95: Math.max(...rs.map((r) => r.p95)),
  non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
  errors: rs.reduce((s, r) => s + r.errors, 0),
})
printTable(
  `Tracing overhead: GET ${path} on booking-service (${rounds} rotating rounds of ${duration} s)`,
  names.map((name) => ({ name, ...avg(totals[name]) })),
  'tracing off (baseline)',
)
process.exit(0)
