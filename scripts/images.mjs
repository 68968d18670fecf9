#!/usr/bin/env node
// `npm run images`: builds the five images from deploy/images/ with docker or podman (whichever is
// installed), tagged tickets/<name>:<version> and tickets/<name>:<git short commit>, and prints
// each one's size. `npm run images -- gateway ops` builds only those.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './ensure-built.mjs'

export const IMAGES = ['gateway', 'queue-service', 'booking-service', 'payment-service', 'ops']

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

/** docker only when it has an engine to talk to (here `docker` is a bare client); podman otherwise. */
export function containerEngine() {
  if (process.env.CONTAINER_ENGINE) return process.env.CONTAINER_ENGINE
  if (has('docker') && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0) return 'docker'
  if (has('podman')) return 'podman'
  throw new Error('npm run images needs docker (with a running engine) or podman.')
}

// Read once: a commit made while the images build must not change the tags half-way.
const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' })
const commit = git.status === 0 ? git.stdout.trim() : 'nogit'

export function imageTags(name) {
  const version = JSON.parse(readFileSync(join(root, name, 'package.json'), 'utf8')).version
  return [`tickets/${name}:${version}`, `tickets/${name}:${commit}`]
}

function humanSize(bytes) {
  return `${(bytes / 1_000_000).toFixed(0)} MB`
}

export function buildImages(names = IMAGES, { engine = containerEngine(), env = process.env } = {}) {
  const sizes = {}
  for (const name of names) {
    if (!IMAGES.includes(name)) throw new Error(`unknown image "${name}": one of ${IMAGES.join(', ')}`)
    const tags = imageTags(name)
    // podman writes OCI images by default, which drop HEALTHCHECK; the docker format keeps it.
    const format = engine === 'podman' ? ['--format', 'docker'] : []
    const args = ['build', ...format, '-f', join('deploy', 'images', `${name}.Dockerfile`), ...tags.flatMap((t) => ['-t', t]), '.']
    console.log(`\n${engine} ${args.join(' ')}`)
    const r = spawnSync(engine, args, { cwd: root, env, stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`building ${name} failed (exit ${r.status ?? r.signal}): see the output above.`)
    const inspect = spawnSync(engine, ['image', 'inspect', '--format', '{{.Size}}', tags[0]], { env, encoding: 'utf8' })
    sizes[name] = Number(inspect.stdout.trim())
  }
  console.log('\nimage sizes:')
  for (const name of names) console.log(`  ${imageTags(name).join(', ').padEnd(58)} ${humanSize(sizes[name])}`)
  return sizes
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const engine = containerEngine()
    const env = engine === 'podman' ? (await import('./stand-in-base.mjs')).podmanEnv() : process.env
    const names = process.argv.slice(2)
    buildImages(names.length ? names : IMAGES, { engine, env })
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
}
