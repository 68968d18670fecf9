import { describe, expect, it } from 'vitest'
import { seqOf } from '../src/runner/queue-token-claims.js'

const part = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

describe('the seq of a waiting-room token', () => {
  it('is read from the payload without checking the signature', () => {
    expect(seqOf(`${part({ alg: 'HS256' })}.${part({ seq: 42, st: 'WAITING' })}.not-a-signature`)).toBe(42)
  })

  it.each([
    ['no token', undefined],
    ['not a JWT', 'abc'],
    ['a payload that is not JSON', `x.${part('{nope')}.y`],
    ['no seq', `x.${part({ st: 'WAITING' })}.y`],
    ['a seq of 0', `x.${part({ seq: 0 })}.y`],
    ['a fractional seq', `x.${part({ seq: 1.5 })}.y`],
    ['a seq given as a string', `x.${part({ seq: '3' })}.y`],
  ])('is null for %s', (_, token) => {
    expect(seqOf(token)).toBeNull()
  })
})
