import { presaleCodes, type PresaleCodeSpec } from '@tickets/contracts/presale'
import { isolation, fromGateway } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { aConcertId, buildTestApp, join, leave, manualClock, poll } from '../helpers/build-test-app.js'
import { serveInventory } from '../helpers/booking-stand-in.js'

const iso = isolation(import.meta.url)
const clock = manualClock(Date.now())
// Redemption under a race is what this file tests, not the fail-fast deadline (redis-down.test.ts).
const settings = { QUEUE_REDIS_TIMEOUT_MS: '5000', ADMISSION_RATE_PER_SECOND: '1000', ACTIVE_CAP: '2' }
const a = await buildTestApp(iso, { ...settings, INSTANCE_ID: 'queue-a' }, { clock })
const b = await buildTestApp(iso, { ...settings, INSTANCE_ID: 'queue-b' }, { clock })
const codes = presaleCodes(a.redis)

// Booking's side of the resync, for the concerts that open later.
const openings = new Map<string, number>()
serveInventory(a, (concertId) => {
  const opensAt = openings.get(concertId)
  return opensAt === undefined ? { exists: false } : { exists: true, asOf: clock.now(), total: 1_000, sold: 0, opensAt, holds: [] }
})
const HOUR = 3_600_000

async function aCode(concertId: string, over: Partial<PresaleCodeSpec> = {}): Promise<string> {
  const [code] = await codes.create({ concertId, uses: 1, from: clock.now() - HOUR, to: clock.now() + HOUR, bypass: false, ...over }, 1)
  return code!
}

/** A concert whose pre-queue is open (its opening in 10 minutes), and a code of 5 uses for it. */
async function aPreQueueWithCode(over: Partial<PresaleCodeSpec> = {}) {
  const concertId = aConcertId()
  const opensAt = clock.now() + 600_000
  openings.set(concertId, opensAt)
  await a.queueInventory.resync(concertId)
  await a.queueDraws.commit(concertId, opensAt)
  return { concertId, opensAt, code: await aCode(concertId, { uses: 5, ...over }) }
}

function joinWith(app: typeof a, userId: string, concertId: string, code: string) {
  return app.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { 'x-user-id': userId, 'x-presale-code': code }, payload: { concertId } }))
}

async function usedOf(concertId: string) {
  return (await codes.list(concertId)).map((c) => c.used)
}

describe('POST /api/queue/token with X-Presale-Code', () => {
  it('when 60 fans race for a code of 5 uses through two instances, then exactly 5 redeem it, the rest 409 SPENT', async () => {
    const concertId = aConcertId()
    const code = await aCode(concertId, { uses: 5 })
    const fans = Array.from({ length: 60 }, (_, i) => `racer-${i}`)
    const answers = await Promise.all(fans.map((fan, i) => joinWith(i % 2 ? a : b, fan, concertId, code)))
    const won = answers.filter((r) => r.statusCode === 201)
    expect(won).toHaveLength(5)
    expect(won.every((r) => r.json().presale === true)).toBe(true)
    expect(won.map((r) => r.json().position).sort()).toEqual([1, 2, 3, 4, 5])
    const lost = answers.filter((r) => r.statusCode !== 201)
    expect(new Set(lost.map((r) => `${r.statusCode} ${r.json().code}`))).toEqual(new Set(['409 QUEUE_PRESALE_CODE_SPENT']))
    expect(await usedOf(concertId)).toEqual([5])
    expect(Object.keys(await codes.redeemers(concertId))).toHaveLength(5)
  })

  it('when the code is unknown or malformed, outside its window, or another than the one redeemed, then a distinct problem each', async () => {
    const concertId = aConcertId()
    const wrong = await joinWith(a, 'guesser', concertId, 'AAAAAAAAAAAAAAAAAAAA')
    expect([wrong.statusCode, wrong.json().code]).toEqual([403, 'QUEUE_PRESALE_CODE_WRONG'])
    expect((await joinWith(a, 'guesser', concertId, 'short')).json().code).toBe('QUEUE_PRESALE_CODE_WRONG')

    const from = clock.now() + HOUR
    const later = await aCode(concertId, { from, to: from + HOUR })
    const early = await joinWith(a, 'early', concertId, later)
    expect(early.statusCode).toBe(403)
    expect(early.json()).toMatchObject({ code: 'QUEUE_PRESALE_CODE_EXPIRED', validFrom: new Date(from).toISOString(), validUntil: new Date(from + HOUR).toISOString() })
    const ended = await aCode(concertId, { from: clock.now() - 2 * HOUR, to: clock.now() - HOUR })
    expect((await joinWith(a, 'late', concertId, ended)).json().code).toBe('QUEUE_PRESALE_CODE_EXPIRED')

    const mine = await aCode(concertId)
    const other = await aCode(concertId)
    const joined = await joinWith(a, 'holder', concertId, mine)
    expect(joined.statusCode).toBe(201)
    const again = await joinWith(a, 'holder', concertId, other)
    expect(again.json()).toMatchObject({ status: 'WAITING', presale: true, token: joined.json().token })
    expect((await leave(a, 'holder', joined.json().token)).statusCode).toBe(204)
    const second = await joinWith(a, 'holder', concertId, other)
    expect([second.statusCode, second.json().code]).toEqual([409, 'QUEUE_PRESALE_CODE_OTHER'])
    expect((await usedOf(concertId)).reduce((x, y) => x + y)).toBe(1)
  })

  it('when a fan joins again with their code, after leaving too, then one place at a time and never a second use', async () => {
    const concertId = aConcertId()
    const code = await aCode(concertId, { uses: 1 })
    const first = await joinWith(a, 'again', concertId, code)
    const second = await joinWith(b, 'again', concertId, code)
    expect(second.json()).toMatchObject({ status: 'WAITING', position: 1, token: first.json().token })
    const plain = await join(a, 'again', concertId)
    expect(plain.json().token).toBe(first.json().token)
    expect((await leave(a, 'again', first.json().token)).statusCode).toBe(204)
    const back = await joinWith(a, 'again', concertId, code)
    expect(back.statusCode).toBe(201)
    expect(back.json()).toMatchObject({ status: 'WAITING', presale: true, position: 1 })
    expect(await usedOf(concertId)).toEqual([1])
  })

  it('when general fans wait and presale fans join, then the presale line is admitted first, each line in join order', async () => {
    const concertId = aConcertId()
    const code = await aCode(concertId, { uses: 10 })
    const tokens: Record<string, string> = {}
    for (const fan of ['g1', 'g2']) tokens[fan] = (await join(a, fan, concertId)).json().token
    for (const fan of ['p1', 'p2']) {
      const res = await joinWith(b, fan, concertId, code)
      expect(res.json()).toMatchObject({ status: 'WAITING', presale: true, position: fan === 'p1' ? 1 : 2 })
      tokens[fan] = res.json().token
    }
    // A general fan who gets a code later moves to the back of the presale line.
    tokens.g3 = (await join(a, 'g3', concertId)).json().token
    const moved = await joinWith(a, 'g2', concertId, code)
    expect(moved.json()).toMatchObject({ status: 'WAITING', presale: true, position: 3 })
    tokens.g2 = moved.json().token

    const statusOf = async (fan: string) => (await poll(a, fan, tokens[fan]!)).json()
    expect(await statusOf('g1')).toMatchObject({ status: 'WAITING', position: 4 })
    expect(await statusOf('g3')).toMatchObject({ status: 'WAITING', position: 5 })
    clock.advance(1_000)
    await a.queue.tick()
    // The summary far-back polls are answered from: the first general arrival, the presale places apart.
    expect(await a.redis.hmget(`{q:${concertId}}:summary`, 'head', 'pre', 'waiting')).toEqual(['1', '1', '3'])
    // ACTIVE_CAP 2: the first two of the presale line.
    expect(await statusOf('p1')).toMatchObject({ status: 'ACTIVE', presale: true })
    expect(await statusOf('p2')).toMatchObject({ status: 'ACTIVE' })
    expect(await statusOf('g2')).toMatchObject({ status: 'WAITING', position: 1 })
    expect(await statusOf('g1')).toMatchObject({ status: 'WAITING', position: 2 })
    expect(await statusOf('g3')).toMatchObject({ status: 'WAITING', position: 3 })
  })

  it('when a fan joins with a bypass code, then ACTIVE at once, past a full line and the ACTIVE cap', async () => {
    const concertId = aConcertId()
    for (const fan of ['w1', 'w2', 'w3']) await join(a, fan, concertId)
    clock.advance(1_000)
    await a.queue.tick()
    const code = await aCode(concertId, { bypass: true })
    const res = await joinWith(a, 'vip', concertId, code)
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ status: 'ACTIVE', presale: true })
    expect(await a.redis.zcard(`{q:${concertId}}:active`)).toBe(3)
  })

  it('when fans join with a code in the pre-queue window, then presale places, admitted before the drawn fans at the opening', async () => {
    const { concertId, opensAt, code } = await aPreQueueWithCode({ bypass: true })
    const tokens: Record<string, string> = {}
    for (const fan of ['d1', 'd2', 'moved']) {
      const res = await join(a, fan, concertId)
      expect(res.json()).toMatchObject({ status: 'PRE_QUEUE' })
      tokens[fan] = res.json().token
    }
    const early = await joinWith(a, 'early', concertId, code)
    expect(early.json()).toMatchObject({ status: 'WAITING', presale: true, position: 1 })
    const moved = await joinWith(b, 'moved', concertId, code)
    expect(moved.json()).toMatchObject({ status: 'WAITING', presale: true, position: 2 })
    tokens.early = early.json().token
    tokens.moved = moved.json().token

    const statusOf = async (fan: string) => (await poll(a, fan, tokens[fan]!)).json()
    // Waiting fans poll (or drop out as idle): the presale places keep theirs up to the opening.
    clock.set(opensAt - 1_000)
    expect(await statusOf('early')).toMatchObject({ status: 'WAITING', presale: true, position: 1 })
    expect(await statusOf('moved')).toMatchObject({ status: 'WAITING', presale: true, position: 2 })
    clock.set(opensAt + 1)
    await a.queue.tick()
    await a.queueDraws.draw(concertId)
    clock.advance(1_000)
    await a.queue.tick()
    expect(await statusOf('early')).toMatchObject({ status: 'ACTIVE', presale: true })
    expect(await statusOf('moved')).toMatchObject({ status: 'ACTIVE', presale: true })
    const drawn = [await statusOf('d1'), await statusOf('d2')]
    expect(drawn.map((v) => v.status)).toEqual(['WAITING', 'WAITING'])
    expect(drawn.map((v) => v.position).sort()).toEqual([1, 2])
    expect((await a.inject(fromGateway({ method: 'GET', url: `/api/queue/draws/${concertId}` }))).json()).toMatchObject({ status: 'DRAWN', entries: 2 })
  })

  it('when fans join with a code before the opening, then they are told it and come back once a minute, each on their own second', async () => {
    const { opensAt, code, concertId } = await aPreQueueWithCode()
    const fans = ['s1', 's2', 's3']
    const joined = await Promise.all(fans.map((fan) => joinWith(a, fan, concertId, code)))
    const backAt = (res: (typeof joined)[number]) => (Math.floor(clock.now() / 1000) + Number(res.headers['retry-after'])) % 60
    for (const res of joined) {
      expect(res.json()).toMatchObject({ status: 'WAITING', presale: true, opensAt: new Date(opensAt).toISOString() })
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60)
    }
    const seconds = joined.map(backAt)
    expect(new Set(seconds).size).toBe(3)

    clock.advance(7_000)
    const polled = await poll(a, 's1', joined[0]!.json().token)
    expect(polled.json()).toMatchObject({ status: 'WAITING', presale: true, opensAt: new Date(opensAt).toISOString() })
    expect(backAt(polled)).toBe(seconds[0])
    clock.set(opensAt + 1)
    expect((await poll(a, 's1', joined[0]!.json().token)).json().opensAt).toBeUndefined()
  })
})
