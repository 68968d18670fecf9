import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const localFile = (name: string) => fileURLToPath(new URL(`../../.data/${name}`, import.meta.url))

export const DEV_SECRET_FILE = localFile('dev-secret')
export const OPERATOR_SECRET_FILE = localFile('operator-secret')
export const INTERNAL_SECRET_FILE = localFile('internal-secret')

/** The value set in the environment; otherwise a local one in `file`, made once (random) and reused. */
function setOrLocal(value: string | undefined, file: string): string {
  if (value) return value
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  }
  return readFileSync(file, 'utf8').trim()
}

/**
 * AUTH_JWT_SECRET when set; otherwise the local development secret in .data/, made once and reused
 * by `npm start`, `npm run token` and the load runner so their tokens match.
 */
export function resolveJwtSecret(env: Record<string, string | undefined>): string {
  return setOrLocal(env.AUTH_JWT_SECRET, DEV_SECRET_FILE)
}

/**
 * OPERATOR_SECRET when set; otherwise a local one in .data/, made once, shared by `npm start` (the
 * gateway's operator switches) and `npm run ops -- gateway:*`.
 */
export function resolveOperatorSecret(env: Record<string, string | undefined>): string {
  return setOrLocal(env.OPERATOR_SECRET, OPERATOR_SECRET_FILE)
}

/**
 * INTERNAL_SECRET when set; otherwise a local one in .data/, with which `npm start`'s gateway signs
 * what it tells the services and they check it. The deploy files require a real one.
 */
export function resolveInternalSecret(env: Record<string, string | undefined>): string {
  return setOrLocal(env.INTERNAL_SECRET, INTERNAL_SECRET_FILE)
}
