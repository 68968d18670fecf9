#!/usr/bin/env node
// `npm run compose:check`: runs deploy/compose/compose.yaml on podman with Debian's podman-compose,
// the way an operator would run it with docker compose, and proves the stack works there:
//   1. images: the stand-in base and stand-ins for MariaDB, Redis and NATS where no registry gives
//      the real ones (deploy/compose/stand-ins/), and the five service images (npm run images);
//   2. up under its own project name, the gateway on a free port, booking at 2 replicas;
//   3. one fan through the gateway: join, ACTIVE, hold, charge, pay;
//   4. a booking replica's process killed, and its restart policy starting it again;
//   5. `reconcile` in the ops image; then everything the project made is removed, even on failure.
// Writes the steps and their timings to docs/compose-check.md (`--report FILE` elsewhere).
// `--no-build` reuses the service images already built. Runs as root here (podman, apt-get).
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createComposeProject, healthCheckArgv } from './compose-check/compose-project.mjs'
import { DEPENDENCIES, ensureDependencyImages } from './compose-check/dependency-images.mjs'
import { createSteps, describeMachine, writeReport } from './compose-check/report.mjs'
import { crashAndAwaitRestart } from './compose-check/restart-policy.mjs'
import { throwAwaySecrets } from './compose-check/throw-away-secrets.mjs'
import { ensureBuilt, root } from './ensure-built.mjs'
import { buildImages, IMAGES, imageTags } from './images.mjs'
import { driveOneFan } from './one-fan.mjs'
import { ensurePackages, ensureStandInBase, imageExists, podmanEnv } from './stand-in-base.mjs'

const { values: options } = parseArgs({ options: { 'no-build': { type: 'boolean' }, report: { type: 'string', default: join(root, 'docs', 'compose-check.md') } } })
const PROJECT = 'tickets-compose-check'
const ONE_SHOTS = ['migrate', 'seed']
const SERVICES = ['queue-service', 'booking-service', 'payment-service', 'gateway']
const BOOKING_REPLICAS = 2

const started = Date.now()
const at = new Date()
const log = (msg) => console.log(`[compose:check ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}`)
const { step, steps } = createSteps(log)
const composeDir = join(root, 'deploy', 'compose')
const composeFile = join(composeDir, 'compose.yaml')
const workDir = mkdtempSync(join(tmpdir(), 'tickets-compose-check-'))
const commit = imageTags('gateway')[1].split(':')[1]
let project
let coldImages = false
let failure

// Ctrl-C or a CI timeout: the project still goes (once the podman command under way returns).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: removing the project before stopping`)
    project?.down()
    process.exit(130)
  })
}

try {
  ensureBuilt()
  ensurePackages([
    ['podman', 'podman'],
    ['podman-compose', 'podman-compose'],
    ['debootstrap', 'debootstrap'],
    ['runc', 'runc'],
  ])
  const composeText = readFileSync(composeFile, 'utf8')
  const { parse } = await import('yaml')
  const { services } = parse(composeText, { merge: true })
  for (const name of [...DEPENDENCIES, ...ONE_SHOTS, ...SERVICES]) if (!services[name]) throw new Error(`compose.yaml has no service "${name}"`)
  if (existsSync(join(composeDir, '.env'))) log('deploy/compose/.env exists: podman-compose 1.0.3 lets its values win over the ones this check sets')

  const healthOf = (service) => healthCheckArgv(services[service].healthcheck?.test)
  const { freePort } = await import('@tickets/testkit')
  const secrets = throwAwaySecrets(composeText)
  const gatewayPort = await freePort()
  const env = { ...podmanEnv(), ...secrets, GATEWAY_PORT: String(gatewayPort) }

  await step('images: stand-in base', () => {
    coldImages = ensureStandInBase().built
    return coldImages ? "no node:20-bookworm-slim here: built from debootstrap and this machine's node" : 'present'
  })
  await step('images: MariaDB, Redis, NATS', () => Object.values(ensureDependencyImages(services, { env, log })).join('; '))
  if (!options['no-build']) {
    await step('images: the five services', () => {
      buildImages(IMAGES, { engine: 'podman', env })
      return `built from deploy/images/ (with podman's layer cache, if any), tagged tickets/<name>:${commit}`
    })
  }
  // The tag of this commit, which this run built: the version tag (0.1.0) may be any checkout's
  // build on a machine whose image store is shared. TICKETS_VERSION set by the caller wins.
  const tagged = IMAGES.every((name) => imageExists('podman', imageTags(name)[1], env))
  env.TICKETS_VERSION = process.env.TICKETS_VERSION ?? (tagged ? commit : imageTags('gateway')[0].split(':')[1])
  log(`the services run as tickets/<name>:${env.TICKETS_VERSION}`)

  project = createComposeProject({ name: PROJECT, files: [composeFile], env, logFile: join(workDir, 'podman-compose.log') })
  project.down() // what a killed earlier run may have left

  await step('up: MariaDB, Redis, NATS', async () => {
    project.compose(['up', '-d', ...DEPENDENCIES])
    const since = Date.now()
    const healthy = []
    for (const service of DEPENDENCIES) {
      await project.waitHealthy(project.containersOf(service)[0], healthOf(service))
      healthy.push(`${service} ${((Date.now() - since) / 1000).toFixed(0)} s`)
    }
    return `each passes its compose health check; healthy after: ${healthy.join(', ')}`
  })
  // podman-compose 1.0.3 ignores depends_on's conditions (service_healthy,
  // service_completed_successfully): the check waits for each itself.
  await step('migrate, then seed (ops image)', () => {
    for (const job of ONE_SHOTS) project.waitSucceeded(project.startContainer(job))
    return 'both exited 0'
  })
  await step(`up: the four services, booking × ${BOOKING_REPLICAS}`, async () => {
    for (const service of SERVICES) project.startContainer(service)
    for (let n = 2; n <= BOOKING_REPLICAS; n++) project.startContainer('booking-service', n)
    const booking = project.containersOf('booking-service')
    if (booking.length !== BOOKING_REPLICAS) throw new Error(`booking-service has ${booking.length} containers, not ${BOOKING_REPLICAS}`)
    for (const service of SERVICES) for (const container of project.containersOf(service)) await project.waitHealthy(container, healthOf(service))
    return `${booking.join(', ')} and one of each other service, healthy; the gateway published on ${gatewayPort}`
  })
  await step('a fan: join, ACTIVE, hold, charge, pay', async () => {
    const fan = await driveOneFan({ gateway: `http://127.0.0.1:${gatewayPort}`, secret: secrets.AUTH_JWT_SECRET, log })
    return `paid for seat ${fan.seatNumber} through the gateway`
  })
  await step('a booking replica crashes and is restarted', async () => {
    const victim = project.containersOf('booking-service').at(-1)
    const seconds = await crashAndAwaitRestart(project, victim)
    await project.waitHealthy(victim, healthOf('booking-service'))
    const restarts = project.inspect(victim, '{{.RestartCount}}')
    return `SIGKILL to ${victim}'s process; restart: unless-stopped had it running in ${seconds.toFixed(1)} s (restart count ${restarts}), then healthy`
  })
  await step('reconcile (ops image)', () => {
    const output = project.run('migrate', ['reconcile'])
    return `exit 0: ${output.split('\n').filter(Boolean).at(-1) ?? ''}`
  })
} catch (err) {
  failure = err.message
  console.error(`compose check failed: ${err.message}`)
  if (existsSync(join(workDir, 'podman-compose.log'))) console.error(`podman-compose's output: ${join(workDir, 'podman-compose.log')}`)
} finally {
  if (project) await step('down: containers, volumes, network removed', () => project.down()).catch(() => {})
  const totalSeconds = (Date.now() - started) / 1000
  const images = coldImages ? 'cold' : options['no-build'] ? 'reused' : 'warm'
  writeReport(options.report, { steps, failure, machine: describeMachine(commit), at, images, totalSeconds })
  log(`${failure ? 'FAILED' : 'passed'} in ${totalSeconds.toFixed(0)} s; report: ${options.report}`)
  if (!failure) rmSync(workDir, { recursive: true, force: true })
  process.exit(failure ? 1 : 0)
}
