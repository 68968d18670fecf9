import { queueTokenKey, signQueueToken } from '@tickets/contracts/queue-token'
import { describe, expect, it } from 'vitest'
import { createQueueTokenJudge } from '../../src/domain/queue-token-judge.js'

const SECRET = 'a-secret-of-at-least-thirty-two-characters'
const NOW = Date.UTC(2026, 11, 7, 20)
const claims = { userId: 'u1', concertId: 'c1', status: 'WAITING' as const, seq: 3, issuedAt: NOW / 1000, expiresAt: NOW / 1000 + 60 }

describe('createQueueTokenJudge', () => {
  it('when a token was judged once, then later judgements give the same claims and still see it expire', async () => {
    const judge = createQueueTokenJudge(SECRET)
    const token = await signQueueToken(queueTokenKey(SECRET), claims)
    expect(await judge(token, NOW)).toEqual({ ok: true, claims })
    expect(await judge(token, NOW + 30_000)).toEqual({ ok: true, claims })
    expect(await judge(token, NOW + 60_000)).toEqual({ ok: false, reason: 'expired', claims })
  })

  it('when a token is signed with another key or tampered with, then it is invalid every time', async () => {
    const judge = createQueueTokenJudge(SECRET)
    const foreign = await signQueueToken(queueTokenKey(`${SECRET}-other`), claims)
    expect(await judge(foreign, NOW)).toEqual({ ok: false, reason: 'invalid' })
    expect(await judge(foreign, NOW)).toEqual({ ok: false, reason: 'invalid' })
    const token = await signQueueToken(queueTokenKey(SECRET), claims)
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`
    expect((await judge(tampered, NOW)).ok).toBe(false)
  })
})
