import { isolation } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { lineControls } from '../../src/ops.js'
import { aConcertId, buildTestApp, join, leave, manualClock, poll } from '../helpers/build-test-app.js'

const iso = isolation(import.meta.url)
const clock = manualClock()
const settings = { ADMISSION_RATE_PER_SECOND: '3', ACTIVE_CAP: '7', ACTIVE_TTL_SECONDS: '30', WAITING_IDLE_TIMEOUT_SECONDS: '3600' }
const a = await buildTestApp(iso, { ...settings, INSTANCE_ID: 'queue-a' }, { clock })
const b = await buildTestApp(iso, { ...settings, INSTANCE_ID: 'queue-b' }, { clock })
const controls = lineControls(a.redis)

async function tickBoth(concertId: string): Promise<number> {
  clock.advance(1_000)
  const steps = await Promise.all([a.queue.tick(), b.queue.tick(), a.queue.tick(), b.queue.tick()])
  return steps.reduce((sum, admitted) => sum + (admitted[concertId] ?? 0), 0)
}

async function lineOf(n: number, prefix: string) {
  const concertId = aConcertId()
  const tokens: string[] = []
  for (let i = 0; i < n; i++) tokens.push((await join(i % 2 ? a : b, `${prefix}${i}`, concertId)).json().token)
  return { concertId, tokens }
}

async function activeCount(concertId: string) {
  return (await controls.status(concertId)).active
}

describe('admission across two instances', () => {
  it('when both instances step every tick, then admissions follow the rate of 3/s until the cap of 7, in arrival order', async () => {
    const { concertId, tokens } = await lineOf(20, 'f')
    const admitted: number[] = []
    for (let t = 0; t < 5; t++) admitted.push(await tickBoth(concertId))
    expect(admitted).toEqual([3, 3, 1, 0, 0])
    expect(await activeCount(concertId)).toBe(7)
    const statuses = await Promise.all(tokens.map((t, i) => poll(i % 2 ? b : a, `f${i}`, t).then((r) => r.json().status)))
    expect(statuses.slice(0, 7).every((s) => s === 'ACTIVE')).toBe(true)
    expect(statuses.slice(7).every((s) => s === 'WAITING')).toBe(true)
  })

  it('when ACTIVE users leave or their time runs out, then exactly the freed slots are filled, never above the cap', async () => {
    const { concertId, tokens } = await lineOf(20, 'g')
    for (let t = 0; t < 3; t++) await tickBoth(concertId)
    expect(await activeCount(concertId)).toBe(7)
    const active0 = (await poll(a, 'g0', tokens[0]!)).json().token
    const active1 = (await poll(a, 'g1', tokens[1]!)).json().token
    await leave(b, 'g0', active0)
    await leave(a, 'g1', active1)
    expect(await tickBoth(concertId)).toBe(2)
    expect(await tickBoth(concertId)).toBe(0)
    clock.advance(30_000)
    expect(await tickBoth(concertId)).toBe(3)
    expect(await activeCount(concertId)).toBe(3)
    expect(await tickBoth(concertId)).toBe(3)
    expect(await tickBoth(concertId)).toBe(1)
    expect(await activeCount(concertId)).toBe(7)
  })

  it('when an operator changes rate, cap, pause or emergency mode, then every instance follows at the next tick', async () => {
    const { concertId } = await lineOf(40, 'h')
    await controls.setRate(concertId, 10)
    await controls.setCap(concertId, 12)
    expect(await tickBoth(concertId)).toBe(10)
    expect(await tickBoth(concertId)).toBe(2)
    await controls.setCap(concertId, 100)
    await controls.pause(concertId)
    expect(await tickBoth(concertId)).toBe(0)
    await controls.resume(concertId)
    await controls.setRate(concertId, 1.5)
    expect([await tickBoth(concertId), await tickBoth(concertId), await tickBoth(concertId), await tickBoth(concertId)]).toEqual([1, 2, 1, 2])
    await controls.emergency(concertId, 'queue-all')
    expect(await tickBoth(concertId)).toBe(0)
    await controls.emergency(concertId, 'let-all')
    expect(await tickBoth(concertId)).toBe(40 - 18)
    const walkIn = (await join(b, 'late', concertId)).json()
    expect(walkIn.status).toBe('ACTIVE')
    await controls.emergency(concertId, 'off')
    expect((await join(a, 'later', concertId)).json().status).toBe('WAITING')
    expect(await controls.status(concertId)).toMatchObject({ emergency: 'off', paused: false, ratePerSecond: 1.5, activeCap: 100 })
  })
})
