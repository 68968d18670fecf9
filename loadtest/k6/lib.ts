// Shared pieces of the k6 scripts: options from a scenario, user tokens, and the fan journeys.
// Run with k6 (TypeScript is supported natively): see loadtest/README.md.
import { check, sleep } from 'k6'
import crypto from 'k6/crypto'
import encoding from 'k6/encoding'
import exec from 'k6/execution'
import http, { type RefinedResponse, type ResponseType } from 'k6/http'
import { Counter, Rate, Trend } from 'k6/metrics'
import type { Options } from 'k6/options'
import { isExpectedStatus, type Scenario } from '../src/scenarios.ts'

export const BASE_URL = __ENV.BASE_URL ?? 'http://127.0.0.1:8080'
const SECRET = __ENV.AUTH_JWT_SECRET ?? ''
export const CONCERT_ID = __ENV.CONCERT_ID ?? '01936b2e-0000-7000-8000-000000000001'

export const unexpected = new Rate('unexpected_errors')
export const seatsSold = new Counter('seats_sold')
const stepDuration: Record<string, Trend> = {}

function trend(step: string): Trend {
  stepDuration[step] ??= new Trend(`step_${step.replace(/[^a-z]/g, '_')}`, true)
  return stepDuration[step]
}

/** k6 options for a scenario: an open model (ramping-arrival-rate) and the manual's thresholds. */
export function optionsFor(s: Scenario): Options {
  const steps = ['join', 'poll', 'schedules', 'seats', 'hold', 'charge', 'pay', 'concerts']
  return {
    scenarios: {
      [s.name]: {
        executor: 'ramping-arrival-rate',
        startRate: 0,
        timeUnit: '1s',
        preAllocatedVUs: 200,
        maxVUs: 20_000,
        stages: s.stages.map((st) => ({ duration: `${st.durationSeconds}s`, target: Math.ceil(st.targetRate) })),
      },
    },
    thresholds: {
      unexpected_errors: [`rate<${s.thresholds.errorRate}`],
      ...Object.fromEntries(steps.map((step) => [`step_${step}`, [`p(95)<${s.thresholds.p95Ms}`]])),
    },
  }
}

function b64url(value: string): string {
  return encoding.b64encode(value, 'rawurl')
}

/** An HS256 user token, signed with AUTH_JWT_SECRET like `npm run token`. */
export function userToken(userId: string): string {
  if (SECRET.length < 32) exec.test.abort('set AUTH_JWT_SECRET (at least 32 characters) to the secret the gateway uses')
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))
  const now = Math.floor(Date.now() / 1000)
  const payload = b64url(JSON.stringify({ sub: userId, iat: now, exp: now + 3600 }))
  const signature = crypto.hmac('sha256', SECRET, `${header}.${payload}`, 'base64rawurl')
  return `${header}.${payload}.${signature}`
}

type Res = RefinedResponse<ResponseType | undefined>

/** After a 429 or 503 with Retry-After, wait and try again a few times, as a polite client does. */
function politely(send: () => Res): Res {
  let res = send()
  for (let i = 1; i < 5 && (res.status === 429 || res.status === 503) && res.headers['Retry-After'] !== undefined; i++) {
    sleep(Math.min(Number(res.headers['Retry-After']) || 1, 15))
    res = send()
  }
  return res
}

function record(step: string, res: Res): Res {
  trend(step).add(res.timings.duration)
  const expected = isExpectedStatus(step, res.status, res.headers['Retry-After'] !== undefined)
  unexpected.add(!expected)
  check(res, { [`${step}: expected status`]: () => expected })
  return res
}

function headers(user: { token: string; ip: string }, extra: Record<string, string> = {}) {
  // One machine plays many fans: the gateway trusts X-Forwarded-For from loopback when TRUSTED_PROXIES says so.
  return { Authorization: `Bearer ${user.token}`, 'X-Forwarded-For': user.ip, 'Content-Type': 'application/json', ...extra }
}

function think(s: Scenario) {
  sleep((s.thinkMs.min + Math.random() * (s.thinkMs.max - s.thinkMs.min)) / 1000)
}

function retryAfter(res: Res, fallback: number): number {
  const value = Number(res.headers['Retry-After'])
  return Number.isFinite(value) && value > 0 ? value : fallback
}

export function newFan() {
  const n = exec.scenario.iterationInTest + 1
  const userId = `k6-${exec.scenario.name}-${n}`
  return { userId, token: userToken(userId), ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` }
}

/** Joins and polls as told by Retry-After; returns the ACTIVE token, or null (left, sold out, expired). */
export function waitInLine(s: Scenario, fan: ReturnType<typeof newFan>, maxSeconds = 900): string | null {
  const joined = record('join', politely(() => http.post(`${BASE_URL}/api/queue/token`, JSON.stringify({ concertId: CONCERT_ID }), { headers: headers(fan) })))
  if (joined.status !== 201 && joined.status !== 200) return null
  let queueToken = String(joined.json('token'))
  if (joined.json('status') === 'ACTIVE') return queueToken
  const leaves = Math.random() < s.mix.abandonInLine
  const started = Date.now()
  let wait = retryAfter(joined, 1)
  while (Date.now() - started < maxSeconds * 1000) {
    sleep(wait)
    if (leaves && Date.now() - started > 3_000) {
      record('leave', http.del(`${BASE_URL}/api/queue/token`, null, { headers: headers(fan, { 'X-Queue-Token': queueToken }) }))
      return null
    }
    const polled = record('poll', http.get(`${BASE_URL}/api/queue/token`, { headers: headers(fan, { 'X-Queue-Token': queueToken }) }))
    if (polled.status !== 200) {
      wait = retryAfter(polled, 2)
      continue
    }
    const status = polled.json('status')
    if (status === 'ACTIVE') return String(polled.json('token') ?? queueToken)
    if (status === 'SOLD_OUT' || status === 'EXPIRED') return null
    queueToken = String(polled.json('token') ?? queueToken)
    wait = retryAfter(polled, 1)
  }
  return null
}

/** Once ACTIVE: schedules, seat map, hold a free seat (another on 409), charge if short, pay. */
export function buy(s: Scenario, fan: ReturnType<typeof newFan>, activeToken: string): boolean {
  const h = headers(fan, { 'X-Queue-Token': activeToken })
  const schedules = record('schedules', politely(() => http.get(`${BASE_URL}/api/concerts/${CONCERT_ID}/schedules`, { headers: h })))
  const list = (schedules.json('schedules') as { scheduleId: string; availableSeats: number }[] | undefined) ?? []
  const open = list.filter((x) => x.availableSeats > 0)
  if (open.length === 0) return false
  const schedule = open[Math.floor(Math.random() * open.length)]!
  think(s)
  for (let attempt = 0; attempt < s.holdAttempts; attempt++) {
    const seats = record('seats', politely(() => http.get(`${BASE_URL}/api/concerts/${CONCERT_ID}/schedules/${schedule.scheduleId}/seats`, { headers: h })))
    const free = ((seats.json('seats') as { seatNumber: number; status: string }[] | undefined) ?? []).filter((x) => x.status === 'AVAILABLE')
    if (free.length === 0) return false
    const seat = free[Math.floor(Math.random() * free.length)]!
    const held = record('hold', politely(() => http.post(`${BASE_URL}/api/reservations`, JSON.stringify({ scheduleId: schedule.scheduleId, seatNumber: seat.seatNumber }), { headers: h })))
    if (held.status === 409) continue
    if (held.status !== 201) return false
    if (Math.random() < s.mix.abandonHold) return false
    const reservationId = String(held.json('reservationId'))
    const price = Number(held.json('price'))
    think(s)
    const balance = Number(record('points', http.get(`${BASE_URL}/api/points`, { headers: h })).json('balance') ?? 0)
    if (balance < price) {
      record('charge', politely(() => http.post(`${BASE_URL}/api/points/charge`, JSON.stringify({ amount: price - balance }), { headers: { ...h, 'Idempotency-Key': `charge-${reservationId}` } })))
    }
    const paid = record('pay', politely(() => http.post(`${BASE_URL}/api/payments`, JSON.stringify({ reservationId }), { headers: { ...h, 'Idempotency-Key': `pay-${reservationId}` } })))
    if (paid.status === 201) seatsSold.add(1)
    return paid.status === 201
  }
  return false
}

/** Gives the ACTIVE slot back, as the site's "leave" button does, so the line moves on. */
export function leave(fan: ReturnType<typeof newFan>, activeToken: string): void {
  record('leave', http.del(`${BASE_URL}/api/queue/token`, null, { headers: headers(fan, { 'X-Queue-Token': activeToken }) }))
}

export function browseOnce(s: Scenario): void {
  const concerts = record('concerts', http.get(`${BASE_URL}/api/concerts`))
  const ids = ((concerts.json('concerts') as { concertId: string }[] | undefined) ?? []).map((c) => c.concertId)
  const concertId = ids[Math.floor(Math.random() * ids.length)] ?? CONCERT_ID
  think(s)
  record('schedules', politely(() => http.get(`${BASE_URL}/api/concerts/${concertId}/schedules`)))
}
