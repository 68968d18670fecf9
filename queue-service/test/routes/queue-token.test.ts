import { RPC } from '@tickets/contracts/events'
import { serveRpc } from '@tickets/shared/nats'
import { queueTokenKey, signQueueToken } from '@tickets/contracts/queue-token'
import { isolation, fromGateway } from '@tickets/testkit'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { lineControls } from '../../src/ops.js'
import { aConcertId, buildTestApp, join, leave, manualClock, poll } from '../helpers/build-test-app.js'

const iso = isolation(import.meta.url)
const clock = manualClock()
const app = await buildTestApp(iso, { ADMISSION_RATE_PER_SECOND: '2', ACTIVE_CAP: '100', WAITING_IDLE_TIMEOUT_SECONDS: '60', ACTIVE_TTL_SECONDS: '600' }, { clock })
const controls = lineControls(app.redis)
const tick = async () => {
  clock.advance(1_000)
  return app.queue.tick()
}

describe('POST /api/queue/token', () => {
  it('when a fan joins, then 201 with a signed WAITING token bound to the user and concert, position 1 and a wait estimate', async () => {
    const concertId = aConcertId()
    const res = await join(app, 'u1', concertId)
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ status: 'WAITING', position: 1, estimatedWaitSeconds: 1 })
    expect(decodeJwt(body.token)).toMatchObject({ sub: 'u1', cid: concertId, st: 'WAITING' })
    expect(res.headers['retry-after']).toBe('1')
  })

  it('when the same fan joins again, then the same token and place come back, and nobody else moves', async () => {
    const concertId = aConcertId()
    const first = (await join(app, 'a', concertId)).json()
    await join(app, 'b', concertId)
    const again = (await join(app, 'a', concertId)).json()
    const b = (await join(app, 'b', concertId)).json()
    expect(again).toEqual(first)
    expect(b.position).toBe(2)
  })

  it('when the body is bad or the user header is missing, then a 4xx problem', async () => {
    const bad = await app.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { 'x-user-id': 'u1' }, payload: { concertId: '{q:x}' } }))
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toContain('application/problem+json')
    const extra = await app.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { 'x-user-id': 'u1' }, payload: { concertId: 'c', position: 1 } }))
    expect(extra.statusCode).toBe(400)
    const anonymous = await app.inject(fromGateway({ method: 'POST', url: '/api/queue/token', payload: { concertId: 'c' } }))
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.json().code).toBe('AUTH_MISSING_USER')
  })

  it('when the concert does not exist or is sold out, then 404 or 409 QUEUE_SOLD_OUT and nobody is in line', async () => {
    const concertId = aConcertId()
    const soldOutId = aConcertId()
    const rpc = serveRpc(
      app.nats,
      RPC.CONCERT_STATUS,
      async (data) => {
        const asked = (data as { concertId: string }).concertId
        return { exists: asked !== concertId, soldOut: asked === soldOutId }
      },
      app.log,
    )
    try {
      await app.nats.nc.flush()
      const res = await join(app, 'u1', concertId)
      expect(res.statusCode).toBe(404)
      expect(res.json().code).toBe('QUEUE_CONCERT_NOT_FOUND')
      expect((await controls.status(concertId)).waiting).toBe(0)
      const soldOut = await join(app, 'u1', soldOutId)
      expect(soldOut.statusCode).toBe(409)
      expect(soldOut.json().code).toBe('QUEUE_SOLD_OUT')
      expect((await controls.status(soldOutId)).waiting).toBe(0)
    } finally {
      await rpc.stop()
    }
  })
})

describe('GET /api/queue/token', () => {
  it('when waiting, then the exact position, and once admitted, ACTIVE with a new token that carries its expiry', async () => {
    const concertId = aConcertId()
    const tokens: string[] = []
    for (const u of ['p1', 'p2', 'p3']) tokens.push((await join(app, u, concertId)).json().token)
    const before = await poll(app, 'p3', tokens[2]!)
    expect(before.statusCode).toBe(200)
    expect(before.json()).toMatchObject({ status: 'WAITING', position: 3 })
    expect(Number(before.headers['retry-after'])).toBeGreaterThanOrEqual(1)

    await tick()
    const first = (await poll(app, 'p1', tokens[0]!)).json()
    expect(first.status).toBe('ACTIVE')
    expect(first.position).toBe(0)
    expect(first.token).not.toBe(tokens[0])
    const claims = decodeJwt(first.token)
    expect(claims).toMatchObject({ sub: 'p1', cid: concertId, st: 'ACTIVE' })
    expect(claims.exp! * 1000).toBe(Date.parse(first.activeUntil))
    expect(Date.parse(first.activeUntil) - clock.now()).toBe(600_000)
    expect((await poll(app, 'p3', tokens[2]!)).json()).toMatchObject({ status: 'WAITING', position: 1 })
    expect((await poll(app, 'p1', first.token)).json().status).toBe('ACTIVE')
  })

  it('when the wait is long, then Retry-After grows with the distance up to 60 s, with a range around the estimate', async () => {
    const concertId = aConcertId()
    await controls.setRate(concertId, 0.2)
    let lastToken = ''
    for (let i = 0; i < 60; i++) lastToken = (await join(app, `r${i}`, concertId)).json().token
    await tick()
    const near = await poll(app, 'r0', (await join(app, 'r0', concertId)).json().token)
    const far = await poll(app, 'r59', lastToken)
    expect(Number(near.headers['retry-after'])).toBeLessThan(Number(far.headers['retry-after']))
    expect(Number(far.headers['retry-after'])).toBe(60)
    expect(far.json().estimatedWaitSeconds).toBeGreaterThan(near.json().estimatedWaitSeconds)
    const [low, high] = far.json().estimatedWaitRangeSeconds
    expect(low).toBeLessThanOrEqual(far.json().estimatedWaitSeconds)
    expect(high).toBeGreaterThanOrEqual(far.json().estimatedWaitSeconds)
  })

  it("when the token is missing, forged, or another user's, then 401/403 problems", async () => {
    const concertId = aConcertId()
    const { token } = (await join(app, 'owner', concertId)).json()
    expect((await app.inject(fromGateway({ method: 'GET', url: '/api/queue/token', headers: { 'x-user-id': 'owner' } }))).json().code).toBe('QUEUE_TOKEN_MISSING')
    const forged = await signQueueToken(queueTokenKey('another-secret-that-is-long-enough-too'), {
      userId: 'owner',
      concertId,
      status: 'WAITING',
      seq: 1,
      issuedAt: 1,
      expiresAt: 4_000_000_000,
    })
    expect((await poll(app, 'owner', forged)).statusCode).toBe(401)
    expect((await poll(app, 'owner', `${token}x`)).json().code).toBe('QUEUE_TOKEN_INVALID')
    const theirs = await poll(app, 'thief', token)
    expect(theirs.statusCode).toBe(403)
    expect(theirs.json().code).toBe('QUEUE_TOKEN_FORBIDDEN')
  })

  it('when a waiting fan stops polling past the idle timeout, then they drop out and their token reads EXPIRED', async () => {
    const concertId = aConcertId()
    await controls.pause(concertId)
    const idle = (await join(app, 'idle', concertId)).json().token
    const active = (await join(app, 'alive', concertId)).json().token
    for (let s = 0; s < 70; s += 10) {
      clock.advance(10_000)
      await poll(app, 'alive', active)
      await app.queue.tick()
    }
    expect((await poll(app, 'idle', idle)).json()).toMatchObject({ status: 'EXPIRED', position: 0 })
    expect((await poll(app, 'alive', active)).json()).toMatchObject({ status: 'WAITING', position: 1 })
    const back = (await join(app, 'idle', concertId)).json()
    expect(back.position).toBe(2)
    expect(back.token).not.toBe(idle)
  })
})

describe('DELETE /api/queue/token', () => {
  it('when a waiting fan leaves, then the next in line moves up and the token reads EXPIRED', async () => {
    const concertId = aConcertId()
    const a = (await join(app, 'l1', concertId)).json().token
    const b = (await join(app, 'l2', concertId)).json().token
    expect((await leave(app, 'l1', a)).statusCode).toBe(204)
    expect((await poll(app, 'l2', b)).json().position).toBe(1)
    expect((await poll(app, 'l1', a)).json().status).toBe('EXPIRED')
    expect((await leave(app, 'l1', a)).json().code).toBe('QUEUE_NOT_IN_LINE')
  })

  it('when an ACTIVE fan gives up the slot, then their tokens are revoked in Redis for the gateway', async () => {
    const concertId = aConcertId()
    const waiting = (await join(app, 'g1', concertId)).json().token
    await tick()
    const active = (await poll(app, 'g1', waiting)).json().token
    expect((await leave(app, 'g1', active)).statusCode).toBe(204)
    const seq = decodeJwt(active).seq as number
    expect(Number(await app.redis.get(`{q:${concertId}}:rev:g1`))).toBe(seq)
    expect((await poll(app, 'g1', active)).json().status).toBe('EXPIRED')
    expect((await controls.status(concertId)).active).toBe(0)
  })
})

describe('sold out', () => {
  it('when the concert sells out, then joins get 409 and polls SOLD_OUT; when a seat comes back, the line reopens', async () => {
    const concertId = aConcertId()
    const { token } = (await join(app, 's1', concertId)).json()
    await app.queue.soldOutChanged({ concertId, soldOut: true, occurredAt: new Date(clock.now()).toISOString() })
    const closed = await join(app, 's2', concertId)
    expect(closed.statusCode).toBe(409)
    expect(closed.json().code).toBe('QUEUE_SOLD_OUT')
    expect((await poll(app, 's1', token)).json().status).toBe('SOLD_OUT')
    await app.queue.soldOutChanged({ concertId, soldOut: false, occurredAt: new Date(clock.now() + 1).toISOString() })
    expect((await poll(app, 's1', token)).json()).toMatchObject({ status: 'WAITING', position: 1 })
    expect((await join(app, 's2', concertId)).statusCode).toBe(201)
  })
})

describe('metrics', () => {
  it('exposes line length, active users, joins, admissions and the join and poll latency histograms', async () => {
    const concertId = aConcertId()
    const { token } = (await join(app, 'm1', concertId)).json()
    await join(app, 'm2', concertId)
    await join(app, 'm3', concertId)
    await poll(app, 'm1', token)
    await tick()
    const body = (await app.admin.inject({ method: 'GET', url: '/metrics' })).body
    expect(body).toMatch(new RegExp(`^queue_line_length\\{[^}]*concert="${concertId}"[^}]*\\} 1$`, 'm'))
    expect(body).toMatch(new RegExp(`^queue_active_users\\{[^}]*concert="${concertId}"[^}]*\\} 2$`, 'm'))
    expect(body).toMatch(new RegExp(`^queue_admissions_total\\{[^}]*concert="${concertId}"[^}]*\\} 2$`, 'm'))
    expect(body).toMatch(new RegExp(`^queue_joins_total\\{[^}]*concert="${concertId}"[^}]*outcome="new"[^}]*\\} 3$`, 'm'))
    expect(body).toContain('queue_join_duration_seconds_bucket')
    expect(body).toContain('queue_poll_duration_seconds_bucket')
    expect(body).toContain('queue_dropouts_total')
  })
})
