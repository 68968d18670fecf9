import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const server = fileURLToPath(new URL('../dist/server.js', import.meta.url))

function start(env: Record<string, string | undefined>) {
  const clean = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete clean[k]
  return spawnSync(process.execPath, [server], { env: clean, encoding: 'utf8', timeout: 15_000 })
}

describe('starting the gateway', () => {
  it('when AUTH_JWT_SECRET is missing, then it stops at once with one line naming it', () => {
    const r = start({ AUTH_JWT_SECRET: undefined, PORT: '0' })
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^gateway: the configuration is not valid: .*AUTH_JWT_SECRET/)
  })

  it('when AUTH_JWT_SECRET is too short, then it stops at once saying so', () => {
    const r = start({ AUTH_JWT_SECRET: 'short', PORT: '0' })
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/AUTH_JWT_SECRET must NOT have fewer than 32 characters/)
  })
})
