import { entryIdOf, verifyDraw } from '@tickets/contracts/draw'
import { lineControls } from '@tickets/contracts/line-controls'
import { isolation, fromGateway } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { aConcertId, buildTestApp, join, leave, manualClock, poll } from '../helpers/build-test-app.js'
import { serveInventory } from '../helpers/booking-stand-in.js'

const iso = isolation(import.meta.url)
const clock = manualClock(Date.now())
const WINDOW_S = 1_800
// A Redis call slower than the usual deadline on a busy machine is not what this file tests.
const app = await buildTestApp(iso, { ADMISSION_RATE_PER_SECOND: '0', PRE_QUEUE_WINDOW_SECONDS: String(WINDOW_S), QUEUE_REDIS_TIMEOUT_MS: '5000' }, { clock })

// Booking's side of the resync: each concert's opening, as its schedules say.
const openings = new Map<string, number>()
serveInventory(app, (concertId) => {
  const opensAt = openings.get(concertId)
  return opensAt === undefined ? { exists: false } : { exists: true, asOf: clock.now(), total: 100_000, sold: 0, opensAt, holds: [] }
})

/** A concert opening `inMs` from now whose line knows it: its inventory taken and its draw committed. */
async function aConcertOpeningIn(inMs: number) {
  const concertId = aConcertId()
  openings.set(concertId, clock.now() + inMs)
  await app.queueInventory.resync(concertId)
  await app.queueDraws.commit(concertId, clock.now() + inMs)
  return concertId
}

async function preQueue(concertId: string, users: string[]) {
  const tokens: Record<string, string> = {}
  for (const u of users) {
    const res = await join(app, u, concertId)
    expect(res.statusCode).toBe(201)
    tokens[u] = res.json().token
  }
  return tokens
}

const draw = (concertId: string, path = '') => app.inject(fromGateway({ method: 'GET', url: `/api/queue/draws/${concertId}${path}` }))

/** Past the opening: a step freezes the pre-queue, then the draw (started by the step) is awaited. */
async function open(concertId: string) {
  clock.set(openings.get(concertId)! + 1)
  await app.queue.tick()
  await app.queueDraws.draw(concertId)
}

describe('POST /api/queue/token before the opening', () => {
  it('when a fan joins in the pre-queue window, then 201 PRE_QUEUE with the opening time and an entry they can recognise', async () => {
    const concertId = await aConcertOpeningIn(600_000)
    const res = await join(app, 'pq-1', concertId)
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body).toMatchObject({ status: 'PRE_QUEUE', position: 0, opensAt: new Date(openings.get(concertId)!).toISOString(), preQueued: 1, drawing: false })
    expect(body.estimatedWaitSeconds).toBe(600)
    expect(body.entryId).toBe(entryIdOf('pq-1', body.entrySalt))
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect((await draw(concertId)).json()).toMatchObject({ status: 'PRE_QUEUE', entries: 1, algorithm: 'sha256-v1' })
    expect((await draw(concertId)).json().seed).toBeUndefined()
  })

  it('when a fan joins before the window, then 409 QUEUE_NOT_OPEN_YET with both times and a fitting Retry-After', async () => {
    const concertId = await aConcertOpeningIn(2 * 3_600_000)
    const res = await join(app, 'early', concertId)
    expect(res.statusCode).toBe(409)
    const opensAt = openings.get(concertId)!
    expect(res.json()).toMatchObject({
      code: 'QUEUE_NOT_OPEN_YET',
      opensAt: new Date(opensAt).toISOString(),
      preQueueOpensAt: new Date(opensAt - WINDOW_S * 1000).toISOString(),
    })
    expect(Number(res.headers['retry-after'])).toBe(3_600)
  })

  it('when a fan joins the pre-queue again, then the same entry and token; one entry per user', async () => {
    const concertId = await aConcertOpeningIn(60_000)
    const first = (await join(app, 'again', concertId)).json()
    const second = (await join(app, 'again', concertId)).json()
    expect(second).toMatchObject({ entryId: first.entryId, token: first.token, preQueued: 1 })
  })

  it('while many fans wait in the pre-queue, then their polls come back spread over the minute, not at the opening second', async () => {
    const concertId = await aConcertOpeningIn(30_000)
    const tokens = await preQueue(
      concertId,
      Array.from({ length: 120 }, (_, i) => `spread-${i}`),
    )
    const hints = await Promise.all(Object.entries(tokens).map(async ([u, t]) => Number((await poll(app, u, t)).headers['retry-after'])))
    expect(hints.every((h) => h >= 1 && h <= 60)).toBe(true)
    expect(new Set(hints).size).toBeGreaterThanOrEqual(30)
  })
})

describe('a concert with its own pre-queue window (ops concert:pre-queue)', () => {
  it('when the window is set, then the pre-queue opens that long before, and a change moves a committed start', async () => {
    const concertId = aConcertId()
    const opensAt = clock.now() + 20 * 60_000
    openings.set(concertId, opensAt)
    const controls = lineControls(app.redis)
    await controls.setPreQueueWindow(concertId, 600)
    await app.queueInventory.resync(concertId)
    const early = await join(app, 'own-window', concertId)
    expect(early.json()).toMatchObject({ code: 'QUEUE_NOT_OPEN_YET', preQueueOpensAt: new Date(opensAt - 600_000).toISOString() })

    await controls.setPreQueueWindow(concertId, WINDOW_S)
    clock.advance(1_000)
    await app.queue.tick()
    await expect.poll(async () => (await join(app, 'own-window', concertId)).json().status, { timeout: 5_000 }).toBe('PRE_QUEUE')
    expect((await draw(concertId)).json()).toMatchObject({ preQueueOpensAt: new Date(opensAt - WINDOW_S * 1000).toISOString() })
  })
})

describe('the opening draw', () => {
  it('when the opening comes, then pre-queued fans stand in the published order, later joins behind them in arrival order', async () => {
    const concertId = await aConcertOpeningIn(300_000)
    const fans = Array.from({ length: 40 }, (_, i) => `fan-${i}`)
    const tokens = await preQueue(concertId, fans)
    const entryOf: Record<string, string> = {}
    for (const u of fans) entryOf[u] = (await join(app, u, concertId)).json().entryId
    expect((await leave(app, 'fan-7', tokens['fan-7']!)).statusCode).toBe(204)

    clock.set(openings.get(concertId)! + 1)
    const late = await join(app, 'late-1', concertId)
    expect(late.json()).toMatchObject({ status: 'WAITING' })
    const lateAgain = await join(app, 'late-2', concertId)
    await app.queue.tick()
    await app.queueDraws.draw(concertId)

    const info = (await draw(concertId)).json()
    expect(info).toMatchObject({ status: 'DRAWN', entries: 39 })
    const published = (await draw(concertId, '/entries?limit=10000')).json()
    expect(verifyDraw({ seedHash: info.seedHash, seed: info.seed, digest: info.digest, order: published.order })).toMatchObject({ ok: true, entries: 39 })

    for (const u of fans.filter((f) => f !== 'fan-7')) {
      const res = await poll(app, u, tokens[u]!)
      const place = published.order.indexOf(entryOf[u]) + 1
      expect(res.json()).toMatchObject({ status: 'WAITING', position: place })
      expect((await draw(concertId, `/entries/${entryOf[u]}`)).json()).toMatchObject({ place, entries: 39 })
    }
    expect((await poll(app, 'late-1', late.json().token)).json().position).toBe(40)
    expect((await poll(app, 'late-2', lateAgain.json().token)).json().position).toBe(41)
    expect((await poll(app, 'fan-7', tokens['fan-7']!)).json().status).toBe('EXPIRED')
  })

  it('when a drawn fan joins again after the draw, then they keep the drawn place and its token', async () => {
    const concertId = await aConcertOpeningIn(300_000)
    const tokens = await preQueue(concertId, ['keep-1', 'keep-2', 'keep-3'])
    await open(concertId)
    const polled = (await poll(app, 'keep-2', tokens['keep-2']!)).json()
    const again = (await join(app, 'keep-2', concertId)).json()
    expect(again).toMatchObject({ status: 'WAITING', position: polled.position, token: polled.token })
    expect((await poll(app, 'keep-2', polled.token)).json().position).toBe(polled.position)
  })

  it('when nobody joined the pre-queue, then the draw is empty and later joins line up first come, first served', async () => {
    const concertId = await aConcertOpeningIn(300_000)
    clock.set(openings.get(concertId)! + 1)
    const first = await join(app, 'first', concertId)
    await open(concertId)
    expect((await draw(concertId)).json()).toMatchObject({ status: 'DRAWN', entries: 0 })
    expect((await draw(concertId, '/entries')).json()).toMatchObject({ entries: 0, order: [] })
    expect((await poll(app, 'first', first.json().token)).json()).toMatchObject({ status: 'WAITING', position: 1 })
    expect((await join(app, 'second', concertId)).json()).toMatchObject({ status: 'WAITING', position: 2 })
  })

  it('before the draw is made, then its entries are 409 QUEUE_DRAW_NOT_DRAWN; an unknown entry or concert is 404', async () => {
    const concertId = await aConcertOpeningIn(300_000)
    await preQueue(concertId, ['x'])
    expect((await draw(concertId, '/entries')).json().code).toBe('QUEUE_DRAW_NOT_DRAWN')
    await open(concertId)
    expect((await draw(concertId, `/entries/${'0'.repeat(64)}`)).json().code).toBe('QUEUE_DRAW_ENTRY_NOT_FOUND')
    expect((await draw(aConcertId())).json().code).toBe('QUEUE_DRAW_NOT_FOUND')
    expect((await draw(concertId, '/entries/not-hex')).statusCode).toBe(400)
  })
})
