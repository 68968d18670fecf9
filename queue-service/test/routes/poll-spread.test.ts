// Polls spread over what the gateways measured they can answer, on real Redis: the admission step
// turns the gateways' capacity reports into the line's spread, and every poll answer brings the fan
// back on their own second of it.
import { encodeCapacity, GATEWAY_CAPACITY_KEY } from '@tickets/contracts/answer-capacity'
import { queueLineSummaryKey } from '@tickets/contracts/queue-line'
import { isolation } from '@tickets/testkit'
import { describe, expect, it } from 'vitest'
import { aConcertId, buildTestApp, join, manualClock, poll } from '../helpers/build-test-app.js'

const iso = isolation(import.meta.url)
const clock = manualClock()
// A join or poll slower than the usual Redis deadline on a busy machine is not what this file tests.
const app = await buildTestApp(
  iso,
  { ADMISSION_RATE_PER_SECOND: '1', ACTIVE_CAP: '1000', WAITING_IDLE_TIMEOUT_SECONDS: '3600', POLL_CAPACITY_SHARE: '0.5', QUEUE_REDIS_TIMEOUT_MS: '5000' },
  { clock },
)

const seqOf = (token: string): number => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).seq

async function lineOf(n: number, prefix: string) {
  const concertId = aConcertId()
  const fans: { userId: string; token: string }[] = []
  for (let i = 0; i < n; i++) fans.push({ userId: `${prefix}${i}`, token: (await join(app, `${prefix}${i}`, concertId)).json().token })
  return { concertId, fans }
}

describe('polls spread by the gateways measured capacity', () => {
  it('when gateways can answer 20 requests a second, then 300 fans in reach return over 30 s, each on their own second', async () => {
    const { concertId, fans } = await lineOf(300, 's')
    await app.redis.hset(GATEWAY_CAPACITY_KEY, 'gateway-a@test:1', encodeCapacity(20, Date.now()))
    clock.advance(1_000)
    await app.queue.tick()
    // Half of 20 a second for polls; 299 still waiting, none beyond reach (the seats are not known).
    expect(await app.redis.hget(queueLineSummaryKey(concertId), 'sp')).toBe('30')
    const second = Math.floor(clock.now() / 1000)
    for (const fan of fans.slice(1, 31)) {
      const answer = await poll(app, fan.userId, fan.token)
      const body = answer.json()
      const retry = Number(answer.headers['retry-after'])
      expect(body.status).toBe('WAITING')
      expect(retry).toBeGreaterThanOrEqual(Math.ceil(body.estimatedWaitSeconds / 4))
      expect((second + retry) % 30).toBe(seqOf(fan.token) % 30)
    }
  })

  it('when the gateways can answer far more than the line asks, then the line is not spread', async () => {
    const { concertId, fans } = await lineOf(50, 'm')
    await app.redis.hset(GATEWAY_CAPACITY_KEY, 'gateway-a@test:1', encodeCapacity(100_000, Date.now()))
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    clock.advance(1_000)
    await app.queue.tick()
    expect(await app.redis.hget(queueLineSummaryKey(concertId), 'sp')).toBe('1')
    const answer = await poll(app, fans[8]!.userId, fans[8]!.token)
    expect(Number(answer.headers['retry-after'])).toBe(Math.ceil(answer.json().estimatedWaitSeconds / 4))
  })
})
