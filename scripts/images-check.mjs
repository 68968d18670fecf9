#!/usr/bin/env node
// `npm run images:check`: proves the images run. Builds the stand-in base when the machine reaches
// no image registry (scripts/stand-in-base.mjs), builds the five images (npm run images), runs the
// four services in containers on the host network against this machine's MariaDB, Redis and NATS,
// each under its own database names, Redis prefix and NATS namespace, drives one fan through the
// containerised gateway (join, ACTIVE, hold, charge, pay), runs `reconcile` in the ops image, and
// removes its containers and databases. `--no-build` reuses the images already built.
// Runs as root on this kind of machine: podman, debootstrap and apt-get need it.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { ensureBuilt } from './ensure-built.mjs'
import { buildImages, imageTags } from './images.mjs'
import { driveOneFan, waitForOk } from './one-fan.mjs'
import { ensureStandInBase, podmanEnv } from './stand-in-base.mjs'
import { ensureStack } from './stack.mjs'

const started = Date.now()
const engine = 'podman'
const env = podmanEnv()
const id = `imgchk_${randomBytes(3).toString('hex')}`
const db = { booking: `t_booking_${id}`, payment: `t_payment_${id}` }
const mysqlBase = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
const mysqlUrl = (name) => Object.assign(new URL(mysqlBase), { pathname: `/${name}` }).toString()
const secret = randomBytes(32).toString('hex')
const containers = []
const log = (msg) => console.log(`[images:check ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`)
const image = (name) => imageTags(name)[0]

function podman(args, what) {
  const r = spawnSync(engine, args, { env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${what} failed: ${(r.stderr || r.stdout).trim()}`)
  return r.stdout.trim()
}

const common = {
  TZ: 'UTC',
  REDIS_PREFIX: `t:${id}:`,
  NATS_NAMESPACE: `t_${id}`,
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  HOST: '127.0.0.1',
  ADMIN_HOST: '127.0.0.1',
  OTEL_SDK_DISABLED: 'true',
  INTERNAL_SECRET: randomBytes(32).toString('hex'),
}
const opsEnv = { ...common, BOOKING_MYSQL_URL: mysqlUrl(db.booking), PAYMENT_MYSQL_URL: mysqlUrl(db.payment) }
const envArgs = (vars) => Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`])

function ops(action) {
  log(`ops ${action}`)
  const r = spawnSync(engine, ['run', '--rm', '--network', 'host', ...envArgs(opsEnv), image('ops'), action], { env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ops ${action} in the ops image failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`)
  return r.stdout.trim()
}

function waitReady(name, url) {
  return waitForOk(`${url}/health/ready`, {
    what: `${name} (container)`,
    describe: () => {
      const logs = spawnSync(engine, ['logs', '--tail', '20', `tickets-${name}-${id}`], { env, encoding: 'utf8' })
      return `:\n${logs.stdout}${logs.stderr}`
    },
  })
}

async function cleanup() {
  for (const name of containers) spawnSync(engine, ['rm', '-f', '-t', '12', name], { env, stdio: 'ignore' })
  const sql = Object.values(db)
    .map((name) => `DROP DATABASE IF EXISTS \`${name}\`;`)
    .join(' ')
  const auth = mysqlBase.password ? [`--password=${decodeURIComponent(mysqlBase.password)}`] : []
  spawnSync('mariadb', ['-h', mysqlBase.hostname, '-P', mysqlBase.port || '3306', '-u', decodeURIComponent(mysqlBase.username || 'root'), ...auth, '-e', sql], { stdio: 'ignore' })
}

let failed = false
try {
  ensureBuilt()
  await ensureStack(process.env)
  const base = ensureStandInBase()
  log(base.built ? 'stand-in base image built' : 'stand-in base image already there')
  if (!process.argv.includes('--no-build')) buildImages(undefined, { engine, env })
  log(ops('migrate'))
  log(ops('seed'))

  // shared is built by now (ensureBuilt above)
  const { freePort } = await import('@tickets/testkit')
  const ports = { queue: await freePort(), booking: await freePort(), payment: await freePort(), gateway: await freePort() }
  const adminPorts = { queue: await freePort(), booking: await freePort(), payment: await freePort(), gateway: await freePort() }
  const url = (name) => `http://127.0.0.1:${ports[name]}`
  const adminUrl = (name) => `http://127.0.0.1:${adminPorts[name]}`
  const plan = [
    ['queue-service', 'queue', { AUTH_JWT_SECRET: secret, ADMISSION_RATE_PER_SECOND: '1000', ADMISSION_TICK_MS: '100', ACTIVE_CAP: '100' }],
    ['booking-service', 'booking', { MYSQL_URL: mysqlUrl(db.booking) }],
    ['payment-service', 'payment', { MYSQL_URL: mysqlUrl(db.payment) }],
    ['gateway', 'gateway', { AUTH_JWT_SECRET: secret, QUEUE_URLS: url('queue'), BOOKING_URLS: url('booking'), PAYMENT_URLS: url('payment') }],
  ]
  for (const [name, key, extra] of plan) {
    const container = `tickets-${name}-${id}`
    containers.push(container)
    podman(
      [
        'run',
        '-d',
        '--name',
        container,
        '--network',
        'host',
        ...envArgs({ ...common, ...extra, PORT: String(ports[key]), ADMIN_PORT: String(adminPorts[key]), INSTANCE_ID: container }),
        image(name),
      ],
      `starting ${name}`,
    )
    if (name !== 'gateway') continue
    for (const [n, k] of plan) await waitReady(n, adminUrl(k))
  }
  log(`four containers ready (gateway ${url('gateway')})`)
  const health = podman(['inspect', '--format', '{{.State.Health.Status}}', containers[3]], 'inspect').trim()
  log(`gateway container health: ${health || 'no HEALTHCHECK'}`)
  await driveOneFan({ gateway: url('gateway'), secret, log })
  log(ops('reconcile'))
} catch (err) {
  failed = true
  console.error(`images check failed: ${err.message}`)
} finally {
  await cleanup()
  log(`${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  process.exit(failed ? 1 : 0)
}
