#!/usr/bin/env node
// Builds a local stand-in for node:20-bookworm-slim on a machine that reaches no image registry
// (only Debian's apt mirror and the npm registry): a minimal Debian bookworm from debootstrap, this
// machine's own node and npm in the official image's places (/usr/local), and its `node` user
// (uid 1000). Users with a registry pull the real image; this exists only so the Dockerfiles can be
// built and run here. Cached: a second run only checks that the image is there.
// Runs as root: debootstrap and `apt-get install` need it.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { root } from './ensure-built.mjs'

export const BASE_IMAGE = 'node:20-bookworm-slim'
const FULL_NAME = `docker.io/library/${BASE_IMAGE}`

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

function run(cmd, args, what, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts })
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): see the output above.`)
  return r
}

/** Installs Debian packages that are missing, when we are root and have apt-get; otherwise says what to install. */
export function ensurePackages(packages) {
  const missing = packages.filter(([bin]) => !has(bin))
  if (missing.length === 0) return
  const names = missing.map(([, pkg]) => pkg)
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    throw new Error(`missing ${missing.map(([b]) => b).join(', ')}: install ${names.join(' ')} (apt-get install -y ${names.join(' ')})`)
  }
  console.log(`installing ${names.join(', ')} (apt-get)...`)
  run('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${names.join(' ')} >/dev/null`], 'apt-get install')
}

/**
 * Podman needs two settings on this kind of machine: no default ulimits (crun fails on setrlimit
 * otherwise) and the runc runtime (crun refuses its hybrid cgroups). Returns the env to run it with.
 */
export function podmanEnv() {
  const conf = join(root, '.data', 'containers.conf')
  if (!existsSync(conf)) {
    mkdirSync(dirname(conf), { recursive: true })
    writeFileSync(conf, '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n')
  }
  return { ...process.env, CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? conf }
}

export function imageExists(engine, name, env) {
  return spawnSync(engine, ['image', 'exists', name], { env, stdio: 'ignore' }).status === 0
}

export function ensureStandInBase({ force = false } = {}) {
  ensurePackages([
    ['podman', 'podman'],
    ['debootstrap', 'debootstrap'],
    ['runc', 'runc'],
  ])
  const env = podmanEnv()
  if (!force && imageExists('podman', FULL_NAME, env)) return { built: false }
  const dir = mkdtempSync(join(tmpdir(), 'tickets-base-'))
  try {
    console.log(`building the stand-in ${BASE_IMAGE} (debootstrap minbase bookworm, about a minute)...`)
    run('debootstrap', ['--variant=minbase', 'bookworm', dir, 'http://deb.debian.org/debian'], 'debootstrap', { stdio: ['ignore', 'ignore', 'inherit'] })
    // The official image keeps node and npm under /usr/local.
    const nodeBin = process.execPath
    cpSync(nodeBin, join(dir, 'usr/local/bin/node'))
    const npmDir = join(dirname(nodeBin), '..', 'lib', 'node_modules', 'npm')
    cpSync(npmDir, join(dir, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: true })
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(dir, 'usr/local/bin/npm'))
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(dir, 'usr/local/bin/npx'))
    if (!readFileSync(join(dir, 'etc/passwd'), 'utf8').includes('\nnode:')) {
      appendFileSync(join(dir, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash\n')
      appendFileSync(join(dir, 'etc/group'), 'node:x:1000:\n')
      mkdirSync(join(dir, 'home/node'), { recursive: true })
      spawnSync('chown', ['1000:1000', join(dir, 'home/node')])
    }
    // This machine reaches the npm registry through a proxy with its own certificate authority:
    // the stand-in trusts what the machine trusts, so `npm ci` in the builds gets through.
    const caBundle = '/etc/ssl/certs/ca-certificates.crt'
    const trust = existsSync(caBundle) ? ['--change', `ENV NODE_EXTRA_CA_CERTS=${caBundle}`] : []
    if (trust.length) cpSync(caBundle, join(dir, caBundle.slice(1)))
    rmSync(join(dir, 'var/cache/apt/archives'), { recursive: true, force: true })
    const changes = ['--change', 'CMD ["node"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...trust]
    const tar = spawnSync('sh', ['-c', `tar -C "$0" -c . | podman import "$@" - ${FULL_NAME}`, dir, ...changes], { env, stdio: ['ignore', 'ignore', 'inherit'] })
    if (tar.status !== 0) throw new Error('podman import of the stand-in base failed: see the output above.')
    run('podman', ['tag', FULL_NAME, BASE_IMAGE], 'podman tag', { env })
    return { built: true }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { built } = ensureStandInBase({ force: process.argv.includes('--force') })
    console.log(built ? `stand-in ${BASE_IMAGE} built` : `stand-in ${BASE_IMAGE} already there`)
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
}
