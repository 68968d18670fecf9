#!/usr/bin/env node
// `npm run images:check`: proves the images run. Builds the stand-in base when the machine reaches
// no image registry (scripts/stand-in-base.mjs), builds the five images (npm run images), runs the
// four services in containers on the host network against this machine's MariaDB, Redis and NATS,
// each under its own database names, Redis prefix and NATS namespace, drives one fan through the
// containerised gateway (join, ACTIVE, hold, charge, pay), runs `reconcile` in the ops image, and
// removes its containers and databases. `--no-build` reuses the images already built.
// Runs as root on this kind of machine: podman, debootstrap and apt-get need it.
import { spawnSync } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { ensureBuilt } from './ensure-built.mjs'
import { buildImages, imageTags } from './images.mjs'
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

async function waitReady(name, url, deadlineMs = 90_000) {
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    if (
      await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return
    await new Promise((r) => setTimeout(r, 500))
  }
  const logs = spawnSync(engine, ['logs', '--tail', '20', `tickets-${name}-${id}`], { env, encoding: 'utf8' })
  throw new Error(`${name} (container) is not ready at ${url} after ${deadlineMs / 1000} s:\n${logs.stdout}${logs.stderr}`)
}

async function driveOneFan(gateway) {
  const { signUserToken } = await import('@tickets/contracts/auth')
  const user = '1'
  const bearer = `Bearer ${await signUserToken({ secret, userId: user, ttlSeconds: 600 })}`
  const api = async (method, path, { body, queueToken, headers = {} } = {}) => {
    const h = { authorization: bearer, ...headers }
    if (queueToken) h['x-queue-token'] = queueToken
    if (body !== undefined) h['content-type'] = 'application/json'
    const res = await fetch(`${gateway}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : undefined }
  }
  const expect = (res, status, what) => {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`)
    return res.body
  }
  const { concerts } = expect(await api('GET', '/api/concerts'), 200, 'GET /api/concerts')
  const concertId = concerts[0].concertId
  const { schedules } = expect(await api('GET', `/api/concerts/${concertId}/schedules`), 200, 'GET schedules')
  const scheduleId = schedules[0].scheduleId
  let token = expect(await api('POST', '/api/queue/token', { body: { concertId } }), 201, 'join the line').token
  log('joined the line')
  for (let i = 0; ; i++) {
    const poll = expect(await api('GET', '/api/queue/token', { queueToken: token }), 200, 'poll the line')
    if (poll.status === 'ACTIVE') {
      token = poll.token ?? token
      break
    }
    if (i > 200) throw new Error('not admitted within 20 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  log('ACTIVE')
  const { seats } = expect(await api('GET', `/api/concerts/${concertId}/schedules/${scheduleId}/seats`, { queueToken: token }), 200, 'seat map')
  const seat = seats.find((s) => s.status === 'AVAILABLE')
  const hold = expect(await api('POST', '/api/reservations', { queueToken: token, body: { scheduleId, seatNumber: seat.seatNumber } }), 201, 'hold a seat')
  log(`held seat ${seat.seatNumber}`)
  expect(await api('POST', '/api/points/charge', { body: { amount: 100_000 }, headers: { 'idempotency-key': randomUUID() } }), 200, 'charge points')
  log('charged points')
  expect(await api('POST', '/api/payments', { queueToken: token, body: { reservationId: hold.reservationId }, headers: { 'idempotency-key': randomUUID() } }), 201, 'pay')
  log('paid')
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
  await driveOneFan(url('gateway'))
  log(ops('reconcile'))
} catch (err) {
  failed = true
  console.error(`images check failed: ${err.message}`)
} finally {
  await cleanup()
  log(`${failed ? 'FAILED' : 'passed'} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  process.exit(failed ? 1 : 0)
}
