import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../dist/token.js', import.meta.url))
const secret = 'ops-test-secret-long-enough-for-hs256!!'

describe('npm run token', () => {
  it('mints an HS256 user token with sub and exp, signed with AUTH_JWT_SECRET', async () => {
    const token = execFileSync(process.execPath, [cli, '--user', '42', '--ttl', '600'], { env: { ...process.env, AUTH_JWT_SECRET: secret } })
      .toString()
      .trim()
    expect(decodeProtectedHeader(token).alg).toBe('HS256')
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret))
    expect(payload.sub).toBe('42')
    expect(payload.exp! - payload.iat!).toBe(600)
    expect(decodeJwt(token).sub).toBe('42')
  })

  it('when --user is missing or not a valid id, then it exits 2 with usage', () => {
    for (const args of [[], ['--user', 'a b']]) {
      expect(() => execFileSync(process.execPath, [cli, ...args], { env: { ...process.env, AUTH_JWT_SECRET: secret }, stdio: 'pipe' })).toThrow(/usage/)
    }
  })
})
