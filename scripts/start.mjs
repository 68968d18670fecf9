#!/usr/bin/env node
// `npm start`: install, build, make sure MariaDB/Redis/NATS run, migrate, seed, start every service
// (several instances with --scale name=N), wait for readiness, print the URLs. An instance that
// exits is started again (scripts/supervisor.mjs); only Ctrl-C or SIGTERM stops them all.
import { spawn, spawnSync } from 'node:child_process'
import cluster from 'node:cluster'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs, parseEnv } from 'node:util'
import { ensureBuilt, root } from './ensure-built.mjs'
import { ensureStack } from './stack.mjs'
import { supervise } from './supervisor.mjs'

// --tag WORD: added to each child's command line as WORD/<instance> (default tickets/<instance>), so
// `ps` tells one stack from another and `pkill -f 'tickets/booking-1$'` restarts one instance.
// --skip-build: the caller built just before (npm run drill), so no second turbo run.
const { values } = parseArgs({
  options: { scale: { type: 'string', multiple: true, default: [] }, tag: { type: 'string', default: 'tickets' }, 'skip-build': { type: 'boolean', default: false } },
  allowPositionals: false,
})
// The gateway does the most work per request and a Node process uses one core: one gateway process
// per core (at most 4), all sharing the public port (docs/decisions/gateway-processes-share-the-port.md).
const scale = { queue: 1, booking: 1, payment: 1, gateway: Math.min(availableParallelism(), 4) }
for (const s of values.scale) {
  const m = /^(queue|booking|payment|gateway)=(\d+)$/.exec(s)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 8) {
    console.error(`--scale takes name=N with name one of queue, booking, payment, gateway and N from 1 to 8 (got "${s}")`)
    process.exit(2)
  }
  scale[m[1]] = Number(m[2])
}

// Every process keeps DATETIME columns in UTC: the MariaDB driver converts dates in local time.
const env = { ...process.env, TZ: 'UTC' }
// Each process appends its spans to this file (off unless set); made absolute, since each runs in its own folder.
if (env.TRACES_FILE) env.TRACES_FILE = resolve(env.TRACES_FILE)
const host = env.HOST ?? '127.0.0.1'
const mysqlBase = env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'
const withDb = (name) => {
  const u = new URL(mysqlBase)
  u.pathname = `/${name}`
  return u.toString()
}
const bookingDb = env.BOOKING_MYSQL_URL ?? withDb('tickets_booking')
const paymentDb = env.PAYMENT_MYSQL_URL ?? withDb('tickets_payment')
const ports = {
  queue: Number(env.QUEUE_PORT ?? 3001),
  booking: Number(env.BOOKING_PORT ?? 3002),
  payment: Number(env.PAYMENT_PORT ?? 3003),
  gateway: Number(env.GATEWAY_PORT ?? 8080),
}
// Each process's admin listener (readiness, dependency health, metrics; the gateway's operator
// switches): loopback only, never the public port.
const adminPorts = {
  queue: Number(env.QUEUE_ADMIN_PORT ?? 9081),
  booking: Number(env.BOOKING_ADMIN_PORT ?? 9082),
  payment: Number(env.PAYMENT_ADMIN_PORT ?? 9083),
  gateway: Number(env.GATEWAY_ADMIN_PORT ?? 9080),
}
// Instance i of a service listens on its base port + 10 * i, and its admin listener on its admin port + 10 * i.
// Gateway instances all serve the one public port.
const portOf = (name, i) => ports[name] + (name === 'gateway' ? 0 : 10 * i)
const urlsOf = (name) => Array.from({ length: scale[name] }, (_, i) => `http://${host}:${portOf(name, i)}`)
const adminUrlOf = (name, i) => `http://127.0.0.1:${adminPorts[name] + 10 * i}`

if (!values['skip-build']) ensureBuilt()
try {
  await ensureStack(env)
} catch (err) {
  console.error(err.message)
  process.exit(1)
}

const { resolveInternalSecret, resolveJwtSecret, resolveOperatorSecret } = await import('../ops/dist/dev-secret.js')
const secret = resolveJwtSecret(env)
// The gateway signs what it tells the services (the user, the queue concert) with this; they refuse anything unsigned.
const internalSecret = resolveInternalSecret(env)
// The gateway's operator switches, on its admin listener, take this secret.
const operatorSecret = resolveOperatorSecret(env)
const ops = (action) => {
  const r = spawnSync(process.execPath, ['ops/dist/cli.js', action], { cwd: root, stdio: 'inherit', env: { ...env, BOOKING_MYSQL_URL: bookingDb, PAYMENT_MYSQL_URL: paymentDb } })
  if (r.status !== 0) process.exit(r.status ?? 1)
}
ops('migrate')
ops('seed')

// glibc gives each thread that allocates its own 64 MB malloc arena and rarely hands their free
// space back: booking kept about 60 MB there after ticket-open. Two arenas keep it to a fraction.
const common = {
  ...env,
  AUTH_JWT_SECRET: secret,
  INTERNAL_SECRET: internalSecret,
  HOST: host,
  OTEL_SDK_DISABLED: env.OTEL_SDK_DISABLED ?? 'false',
  MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX ?? '2',
}
const plan = []
for (const [name, dir, extra] of [
  ['queue', 'queue-service', {}],
  ['booking', 'booking-service', { MYSQL_URL: bookingDb }],
  ['payment', 'payment-service', { MYSQL_URL: paymentDb }],
  ['gateway', 'gateway', { QUEUE_URLS: urlsOf('queue').join(','), BOOKING_URLS: urlsOf('booking').join(','), PAYMENT_URLS: urlsOf('payment').join(',') }],
]) {
  urlsOf(name).forEach((url, i) => {
    const id = `${name}-${i + 1}`
    // DEV_SIGN_IN: the fan's pages offer a sign-in as any user id; only ever set here, never in deploy/.
    const operatorEnv = name === 'gateway' ? { OPERATOR_SECRET: operatorSecret, DEV_SIGN_IN: 'true' } : {}
    const admin = adminUrlOf(name, i)
    const listeners = { PORT: String(portOf(name, i)), ADMIN_HOST: '127.0.0.1', ADMIN_PORT: String(adminPorts[name] + 10 * i) }
    plan.push({ id, dir, url, admin, env: { ...common, ...extra, ...operatorEnv, ...listeners, INSTANCE_ID: id, OTEL_SERVICE_NAME: dir } })
  })
}

// Prometheus (deploy/prometheus/prometheus.yml) finds every instance this run started, scaled ones
// included, through file service discovery: one target file per job, rewritten on each start.
// PROMETHEUS_TARGETS_DIR: elsewhere, for a second stack (a drill) that must not take the first's place.
const targetsDir = env.PROMETHEUS_TARGETS_DIR ? resolve(env.PROMETHEUS_TARGETS_DIR) : join(root, '.data', 'prometheus-targets')
mkdirSync(targetsDir, { recursive: true })
for (const [job, dir] of [
  ['gateway', 'gateway'],
  ['queue-service', 'queue-service'],
  ['booking-service', 'booking-service'],
  ['payment-service', 'payment-service'],
]) {
  const targets = plan.filter((p) => p.dir === dir).map((p) => ({ targets: [new URL(p.admin).host], labels: { instance_id: p.id } }))
  writeFileSync(join(targetsDir, `${job}.json`), `${JSON.stringify(targets, null, 2)}\n`)
}

// Left alone, V8 sizes the old generation for a 24 GiB machine and collects lazily: under
// ticket-open the gateway sat at 270-370 MB resident with 39 MB live after a full GC. A cap close
// to what a container limit would be makes it collect before it grows (docs/benchmarks.md).
const heapMb = Number(env.NODE_HEAP_MB ?? 128)
const heapArgs = heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : []
// CPU_PROFILE_DIR=<dir>: every service process writes a V8 CPU profile there when it stops (where the µs go).
const profileArgs = env.CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${env.CPU_PROFILE_DIR}`] : []

// Settings an operator changes without stopping the stack (a bigger MYSQL_POOL_SIZE, manual 3.2.3):
// <SERVICE_ENV_DIR>/<service>.env (default .data/env/booking-service.env ...), read each time an
// instance starts, so editing it and ending the instance (`pkill -f 'tickets/booking-1$'`; the
// supervisor starts it again) applies it to that instance.
const serviceEnvDir = resolve(env.SERVICE_ENV_DIR ?? join(root, '.data', 'env'))
function serviceEnv(p) {
  const file = join(serviceEnvDir, `${p.dir}.env`)
  if (!existsSync(file)) return p.env
  const overrides = parseEnv(readFileSync(file, 'utf8'))
  if (Object.keys(overrides).length > 0) console.error(`${p.id}: ${Object.keys(overrides).join(', ')} from ${file}`)
  return { ...p.env, ...overrides }
}

// Children write their JSON lines straight to this terminal: each line names its service and
// instance, and no parent process reads and re-writes every line.
const execArgv = [...heapArgs, ...profileArgs, '--import', '@tickets/shared/telemetry/register']
// Gateway instances are this process's cluster workers, so that they share the public port (it hands
// each new connection to the next of them); every other instance is a plain child process.
function startInstance(p) {
  if (p.dir !== 'gateway') {
    return spawn(process.execPath, [...execArgv, 'dist/server.js', `${values.tag}/${p.id}`], {
      cwd: `${root}/${p.dir}`,
      env: serviceEnv(p),
      stdio: ['ignore', 'inherit', 'inherit'],
    })
  }
  cluster.setupPrimary({ exec: 'dist/server.js', execArgv, args: [`${values.tag}/${p.id}`], cwd: `${root}/${p.dir}`, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return cluster.fork(serviceEnv(p)).process
}
const supervisor = supervise({ plan, start: startInstance, log: (line) => console.error(line) })

let stopping = false
function shutdown(code) {
  if (stopping) return
  stopping = true
  console.error('\nstopping: draining every service...')
  void supervisor.stop(15_000).then(() => process.exit(code))
}
process.on('SIGINT', () => shutdown(0))
process.on('SIGTERM', () => shutdown(0))
// `kill -HUP <pid>`: start again the instances left down after a crash loop, once their cause is fixed.
process.on('SIGHUP', () => {
  if (supervisor.revive().length === 0) console.error('SIGHUP: no instance is down')
})

const deadline = Date.now() + 60_000
for (const p of plan) {
  for (;;) {
    if (stopping) break
    const ok = await fetch(`${p.admin}/health/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    if (Date.now() > deadline) {
      console.error(`${p.id} is not ready after 60 s: see its log lines above (${p.admin}/health/ready)`)
      shutdown(1)
      break
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}
// Ready means each process takes requests; a gateway may still be finding the services behind it
// (its probes run every 250 ms). UP is said once reads through the public port are served: on
// fresh connections, which the port hands to each gateway process in turn.
const catalogue = `${urlsOf('gateway')[0]}/api/concerts`
for (let served = 0; !stopping && served < 2 * scale.gateway;) {
  const ok = await fetch(catalogue, { headers: { connection: 'close' } }).then(
    (r) => r.status === 200,
    () => false,
  )
  served = ok ? served + 1 : 0
  if (ok) continue
  if (Date.now() > deadline) {
    console.error(`${catalogue} is not served after 60 s: see the log lines above`)
    shutdown(1)
    break
  }
  await new Promise((r) => setTimeout(r, 100))
}
if (!stopping) {
  const [gateway] = urlsOf('gateway')
  console.log(`
All services are UP.
  Public API        ${gateway}/api (${scale.gateway} gateway process${scale.gateway > 1 ? 'es' : ''})
  Fan's pages       ${gateway}/ (development sign-in: any user id)
  Operator console  ${adminUrlOf('gateway', 0)}/console/ (its secret: .data/operator-secret)
  API docs          ${gateway}/docs
  Dependencies      ${plan.map((p) => `${p.admin}/health/dependencies`).join('\n                    ')}
  Metrics           ${plan.map((p) => `${p.admin}/metrics`).join('\n                    ')}
  Operator switches ${adminUrlOf('gateway', 0)}/switches (npm run ops -- gateway:*)
  A user token      npm run token -- --user 1
An instance that exits is started again (reading ${serviceEnvDir}/<service>.env, if there is one);
one left down after a crash loop starts again on \`kill -HUP ${process.pid}\`; Ctrl-C stops everything.`)
}
