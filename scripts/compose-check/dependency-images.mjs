// The images compose.yaml names for MariaDB, Redis and NATS. Used as they are when present, pulled
// when a registry answers, and otherwise built as stand-ins from deploy/compose/stand-ins/ (the
// stand-in Debian base plus Debian's packages) under exactly the names compose.yaml uses.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { root } from '../ensure-built.mjs'
import { ensureStandInBase, imageExists } from '../stand-in-base.mjs'

export const DEPENDENCIES = ['mariadb', 'redis', 'nats']
const standIns = join(root, 'deploy', 'compose', 'stand-ins')

/** `mariadb:11.4` → `docker.io/library/mariadb:11.4`: the name podman resolves the short one to. */
const fullName = (image) => (image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`)

function podman(args, env, what) {
  const r = spawnSync('podman', args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (r.status !== 0 && what) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').slice(-5).join('\n')}`)
  return r.status === 0
}

/**
 * Makes each dependency image of `services` (the parsed compose file's services) available.
 * Returns, per service, how: 'present', 'pulled' or 'stand-in built'.
 */
export function ensureDependencyImages(services, { env, log }) {
  const how = {}
  for (const service of DEPENDENCIES) {
    const image = services[service]?.image
    if (!image) throw new Error(`compose.yaml has no image for ${service}`)
    if (imageExists('podman', image, env)) {
      how[service] = `${image}: present`
      continue
    }
    if (podman(['pull', '-q', fullName(image)], env)) {
      how[service] = `${image}: pulled`
      continue
    }
    ensureStandInBase()
    log(`no registry gives ${image}: building its stand-in from Debian's packages`)
    const started = Date.now()
    const tags = [fullName(image), image].flatMap((t) => ['-t', t])
    podman(['build', '--format', 'docker', '-f', join(standIns, `${service}.Dockerfile`), ...tags, standIns], env, `building the ${image} stand-in`)
    how[service] = `${image}: stand-in built (${((Date.now() - started) / 1000).toFixed(0)} s)`
  }
  return how
}
