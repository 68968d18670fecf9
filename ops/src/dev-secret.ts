import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DEV_SECRET_FILE = fileURLToPath(new URL('../../.data/dev-secret', import.meta.url))

/**
 * AUTH_JWT_SECRET when set; otherwise the local development secret in .data/, made once and reused
 * by `npm start`, `npm run token` and the load runner so their tokens match.
 */
export function resolveJwtSecret(env: Record<string, string | undefined>): string {
  if (env.AUTH_JWT_SECRET) return env.AUTH_JWT_SECRET
  if (!existsSync(DEV_SECRET_FILE)) {
    mkdirSync(dirname(DEV_SECRET_FILE), { recursive: true })
    writeFileSync(DEV_SECRET_FILE, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  }
  return readFileSync(DEV_SECRET_FILE, 'utf8').trim()
}

export const OPERATOR_SECRET_FILE = fileURLToPath(new URL('../../.data/operator-secret', import.meta.url))

/**
 * OPERATOR_SECRET when set; otherwise a local one in .data/, made once, shared by `npm start` (the
 * gateway's operator switches) and `npm run ops -- gateway:*`.
 */
export function resolveOperatorSecret(env: Record<string, string | undefined>): string {
  if (env.OPERATOR_SECRET) return env.OPERATOR_SECRET
  if (!existsSync(OPERATOR_SECRET_FILE)) {
    mkdirSync(dirname(OPERATOR_SECRET_FILE), { recursive: true })
    writeFileSync(OPERATOR_SECRET_FILE, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  }
  return readFileSync(OPERATOR_SECRET_FILE, 'utf8').trim()
}
