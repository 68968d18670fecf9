#!/usr/bin/env node
// Installs dependencies when they are missing and builds every package (turbo skips what is
// already built). Plain Node: it runs before anything is installed.
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' }

// Progress goes to stderr: stdout stays the command's own (`TOKEN=$(npm run -s token ...)`).
function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['inherit', 2, 2], env })
  if (r.status !== 0) {
    console.error(`${what} failed (exit ${r.status ?? r.signal}): see the output above.`)
    process.exit(r.status ?? 1)
  }
}

export function ensureInstalled() {
  const marker = join(root, 'node_modules', '.package-lock.json')
  const lock = join(root, 'package-lock.json')
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)
  if (stale) {
    console.log('installing dependencies (npm ci)...')
    run('npm', existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'], 'npm install')
  }
}

export function ensureBuilt() {
  ensureInstalled()
  run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], 'build')
}

if (import.meta.url === `file://${process.argv[1]}`) ensureBuilt()
