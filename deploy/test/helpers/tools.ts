import { spawnSync } from 'node:child_process'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

export const deployDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** A path as the repository names it, for messages. */
export const rel = (file: string) => relative(join(deployDir, '..'), file)

export const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

export function run(bin: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, ...env } })
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() }
}

export function requireTool(bin: string, pkg: string) {
  if (!has(bin)) throw new Error(`${bin} is needed to check the deployment files: install ${pkg} (apt-get install -y ${pkg})`)
}
