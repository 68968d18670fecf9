import { jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { signHs256, timeClaimsProblem, verifyHs256 } from '../src/hs256.js'

const key = new TextEncoder().encode('k'.repeat(32))
const other = new TextEncoder().encode('o'.repeat(32))
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

describe('HS256 on node:crypto', () => {
  it('reads tokens jose signed, and jose reads its tokens', async () => {
    const fromJose = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('u1').setExpirationTime('1h').sign(key)
    expect(verifyHs256(key, fromJose)).toMatchObject({ a: 1, sub: 'u1' })
    const ours = signHs256(key, { sub: 'u2', exp: Math.floor(Date.now() / 1000) + 60 })
    expect((await jwtVerify(ours, key)).payload.sub).toBe('u2')
  })

  it('signs the same payload to the same token', () => {
    expect(signHs256(key, { sub: 'u', seq: 3 })).toBe(signHs256(key, { sub: 'u', seq: 3 }))
  })

  it('refuses another key, a tampered payload, alg none or RS256 headers, crit, and junk', () => {
    const token = signHs256(key, { sub: 'u' })
    const [header, , signature] = token.split('.')
    expect(verifyHs256(other, token)).toBeUndefined()
    expect(verifyHs256(key, `${header}.${b64({ sub: 'admin' })}.${signature}`)).toBeUndefined()
    expect(verifyHs256(key, `${b64({ alg: 'none' })}.${b64({ sub: 'u' })}.`)).toBeUndefined()
    const rs = `${b64({ alg: 'RS256' })}.${b64({ sub: 'u' })}`
    expect(verifyHs256(key, `${rs}.${signHs256(key, {}).split('.')[2]}`)).toBeUndefined()
    const critBody = `${b64({ alg: 'HS256', crit: ['x'], x: 1 })}.${b64({ sub: 'u' })}`
    const critSigned = signHs256(key, {}).split('.')[2]
    expect(verifyHs256(key, `${critBody}.${critSigned}`)).toBeUndefined()
    for (const junk of ['', 'a.b', 'a.b.c', `${header}.!!!.${signature}`, `${b64('str')}.${b64({})}.${signature}`]) expect(verifyHs256(key, junk)).toBeUndefined()
  })

  it('checks exp and nbf with a tolerance, and refuses non-numeric time claims', () => {
    expect(timeClaimsProblem({ exp: 100 }, 99)).toBeUndefined()
    expect(timeClaimsProblem({ exp: 100 }, 100)).toBe('expired')
    expect(timeClaimsProblem({ exp: 100 }, 104, 5)).toBeUndefined()
    expect(timeClaimsProblem({ nbf: 110 }, 100)).toBe('invalid')
    expect(timeClaimsProblem({ nbf: 104 }, 100, 5)).toBeUndefined()
    expect(timeClaimsProblem({ exp: '100' }, 1)).toBe('invalid')
    expect(timeClaimsProblem({ iat: 'x' }, 1)).toBe('invalid')
  })
})
