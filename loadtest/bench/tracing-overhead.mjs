// npm run bench:tracing — catalogue reads on a real booking-service with tracing switched off,
// against the same with tracing on and the OTLP collector unreachable (target: within 5%).
// Rounds alternate between the two so drift on a shared machine hits both alike.
import { migrate, seedDemoCatalogue } from '@tickets/booking-service/ops'
import { measure, printTable, startService } from './lib.mjs'

const db = `mysql://root@127.0.0.1:3306/tickets_bench_tracing`
await migrate(db)
await seedDemoCatalogue(db)
const base = { MYSQL_URL: db, REDIS_PREFIX: 'bench:tracing:', NATS_NAMESPACE: 'bench_tracing' }
const path = '/api/concerts/01936b2e-0000-7000-8000-000000000001/schedules'
const rounds = Number(process.env.ROUNDS ?? 3)
const duration = Number(process.env.DURATION ?? 8)
const totals = { off: [], on: [] }
for (let i = 0; i < rounds; i++) {
  for (const mode of i % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
    const env = mode === 'off' ? { ...base, OTEL_SDK_DISABLED: 'true' } : { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SERVICE_NAME: 'booking-service' }
    const svc = await startService('booking-service', env)
    await measure(svc.url + path, { duration: 2 }) // warm-up
    totals[mode].push(await measure(svc.url + path, { duration }))
    await svc.stop()
  }
}
const avg = (rs) => ({ rps: rs.reduce((s, r) => s + r.rps, 0) / rs.length, p95: Math.max(...rs.map((r) => r.p95)), non2xx: rs.reduce((s, r) => s + r.non2xx, 0), errors: rs.reduce((s, r) => s + r.errors, 0) })
printTable(`Tracing overhead: GET ${path} on booking-service (${rounds} alternating rounds of ${duration} s)`, [
  { name: 'tracing off (baseline)', ...avg(totals.off) },
  { name: 'tracing on, collector unreachable', ...avg(totals.on) },
], 'tracing off (baseline)')
