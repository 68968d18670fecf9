// Joins with a presale code through the gateway, in front of the real line.
import { createConcert } from '@tickets/booking-service/ops'
import { signUserToken } from '@tickets/contracts/auth'
import { presaleCodes } from '@tickets/contracts/presale'
import { describe, expect, it } from 'vitest'
import { buildTestApp, TEST_SECRET } from './helpers/build-test-app.js'
import { realLine } from './helpers/real-services.js'

const { bookingDb, bookingUrl, queueUrl, queue } = await realLine(import.meta.url, { ADMISSION_RATE_PER_SECOND: '0', QUEUE_REDIS_TIMEOUT_MS: '5000' })
// Every join here comes from one address: the first test's one code, then 4 + 2 guesses pass it.
const limits = { RATE_LIMIT_PRESALE_PER_USER: '3', RATE_LIMIT_PRESALE_PER_ADDRESS: '7' }
const { app } = await buildTestApp(import.meta.url, { QUEUE_URLS: queueUrl, BOOKING_URLS: bookingUrl, PAYMENT_URLS: bookingUrl, ...limits })
const codes = presaleCodes(queue.redis)

async function asUser(userId: string) {
  return { authorization: `Bearer ${await signUserToken({ secret: TEST_SECRET, userId })}` }
}

async function join(userId: string, concertId: string, code?: string) {
  const headers = { ...(await asUser(userId)), ...(code === undefined ? {} : { 'x-presale-code': code }) }
  return app.inject({ method: 'POST', url: '/api/queue/token', headers, payload: { concertId } })
}

describe('POST /api/queue/token with X-Presale-Code through the gateway', () => {
  it('when a fan joins with a valid code behind general fans, then the presale place is first and its polls are exact', async () => {
    const { concertId } = await createConcert(bookingDb, { title: 'Fan club', dates: 1, seatsPerSchedule: 10 })
    for (const fan of ['gen-1', 'gen-2']) expect((await join(fan, concertId)).statusCode).toBe(201)
    const [code] = await codes.create({ concertId, uses: 1, from: Date.now() - 1_000, to: Date.now() + 3_600_000, bypass: false }, 1)
    const res = await join('member', concertId, code)
    expect(res.statusCode).toBe(201)
    expect(res.json()).toMatchObject({ status: 'WAITING', presale: true, position: 1 })
    const polled = await app.inject({ method: 'GET', url: '/api/queue/token', headers: { ...(await asUser('member')), 'x-queue-token': res.json().token } })
    expect(polled.json()).toMatchObject({ status: 'WAITING', presale: true, position: 1 })
    expect(polled.json().positionEstimated).toBeUndefined()
    expect((await join('gen-3', concertId)).json().position).toBe(4)
  })

  it('when codes are guessed, then 403 until the per-user limit, then 429; another user from the address until its limit', async () => {
    const { concertId } = await createConcert(bookingDb, { title: 'Guessed', dates: 1, seatsPerSchedule: 10 })
    const guesses = async (userId: string, n: number) => {
      const answers = []
      for (let i = 0; i < n; i++) answers.push(await join(userId, concertId, `guess-${userId}-${i}-padding`))
      return answers.map((r) => `${r.statusCode} ${r.json().code}`)
    }
    expect(await guesses('guesser-1', 4)).toEqual([...Array(3).fill('403 QUEUE_PRESALE_CODE_WRONG'), '429 COMMON_RATE_LIMITED'])
    expect(await guesses('guesser-2', 3)).toEqual([...Array(2).fill('403 QUEUE_PRESALE_CODE_WRONG'), '429 COMMON_RATE_LIMITED'])
    const limited = await join('guesser-3', concertId, 'another-guess-padding')
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    // Joining without a code is not limited by it.
    expect((await join('guesser-3', concertId)).statusCode).toBe(201)
  })
})
