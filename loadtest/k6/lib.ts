// Shared pieces of the k6 scripts: options from a scenario, user tokens, and the fan journeys.
// How to run them (k6 v0.57 or later runs TypeScript as it is): see ../README.md.
import { check, sleep } from 'k6'
import crypto from 'k6/crypto'
import encoding from 'k6/encoding'
import exec from 'k6/execution'
import http, { type RefinedResponse, type ResponseType } from 'k6/http'
import { Counter, Rate, Trend } from 'k6/metrics'
import type { Options } from 'k6/options'
import { isExpectedStatus, mostPresentAtOnce, type Scenario } from '../src/scenarios.ts'
import { proofFor } from './challenge.ts'

export const BASE_URL = __ENV.BASE_URL ?? 'http://127.0.0.1:8080'
const SECRET = __ENV.AUTH_JWT_SECRET ?? ''
export const CONCERT_ID = __ENV.CONCERT_ID ?? '01936b2e-0000-7000-8000-000000000001'

// k6 creates metrics only in the init context (this module's top level, run when a script imports
// it), and a threshold on a metric that does not exist aborts the test: every metric is made here.
const STEPS = ['join', 'join_proof', 'poll', 'leave', 'schedules', 'seats', 'hold', 'points', 'charge', 'pay', 'concerts'] as const
type Step = (typeof STEPS)[number]
const stepDuration = Object.fromEntries(STEPS.map((step) => [step, new Trend(`step_${step}`, true)])) as Record<Step, Trend>
export const unexpected = new Rate('unexpected_errors')
export const seatsSold = new Counter('seats_sold')
/** GET /api/queue/token requests per fan who joined. */
const pollsPerFan = new Trend('queue_polls_per_fan')
/** From the join answer to the first ACTIVE answer, per admitted fan. */
const waitInLineTime = new Trend('queue_wait', true)
/** Poll answers that said why the line is not moving, tagged with the reason. */
const pollReasons = new Counter('queue_poll_reasons')

/** The longest one fan stays, in seconds: in line, then its visit (each fan is held to it). */
export function longestStaySeconds(s: Scenario): number {
  return s.stay.lineSeconds + s.stay.visitSeconds
}

// A fan sends no request once its time is up, but the answers it is still waiting for then take
// up to k6's request timeout (60 s by default).
const LAST_ANSWERS_SECONDS = 60

/**
 * k6 options for a scenario: an open model (ramping-arrival-rate) and the manual's thresholds.
 * Each fan holds a VU from its arrival until it leaves, sleeping in line most of that time, so
 * the executor needs as many VUs as fans can be there at once. All are allocated before the
 * start (maxVUs = preAllocatedVUs): VUs allocated during the run load the machine that generates
 * the load and skew its figures, as k6's documentation on arrival-rate VU allocation warns.
 */
export function optionsFor(s: Scenario): Options {
  // k6 takes whole arrivals per second.
  const stages = s.stages.map((st) => ({ ...st, targetRate: Math.ceil(st.targetRate) }))
  const vus = mostPresentAtOnce(stages, longestStaySeconds(s))
  return {
    scenarios: {
      [s.name]: {
        executor: 'ramping-arrival-rate',
        startRate: 0,
        timeUnit: '1s',
        preAllocatedVUs: vus,
        maxVUs: vus,
        stages: stages.map((st) => ({ duration: `${st.durationSeconds}s`, target: st.targetRate })),
        // The last fans arrive as the stages end; k6 would cut them off 30 s later by default.
        gracefulStop: `${longestStaySeconds(s) + LAST_ANSWERS_SECONDS}s`,
      },
    },
    thresholds: {
      unexpected_errors: [`rate<${s.thresholds.errorRate}`],
      ...Object.fromEntries(STEPS.map((step) => [`step_${step}`, [`p(95)<${s.thresholds.p95Ms}`]])),
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

function secondsLeft(until: number): number {
  return Math.max(0, (until - Date.now()) / 1000)
}

/** Sleeps, but not past `until` (a fan whose time is up leaves). */
function pause(seconds: number, until: number): void {
  sleep(Math.min(seconds, secondsLeft(until)))
}

/**
 * After a 429 or 503 with Retry-After, wait and try again a few times, as a polite client does,
 * unless the fan's time would be up first.
 */
function politely(send: () => Res, until: number): Res {
  let res = send()
  for (let i = 1; i < 5 && (res.status === 429 || res.status === 503) && res.headers['Retry-After'] !== undefined; i++) {
    const wait = Math.min(Number(res.headers['Retry-After']) || 1, 15)
    if (wait >= secondsLeft(until)) break
    sleep(wait)
    res = send()
  }
  return res
}

function record(step: Step, res: Res): Res {
  stepDuration[step].add(res.timings.duration)
  const expected = isExpectedStatus(step, res.status, res.headers['Retry-After'] !== undefined)
  unexpected.add(!expected)
  check(res, { [`${step}: expected status`]: () => expected })
  return res
}

/** A fan's headers. No Content-Type: only a request with a body says what the body is (`withJson`). */
function headers(user: { token: string; ip: string }, extra: Record<string, string> = {}): Record<string, string> {
  return { Authorization: `Bearer ${user.token}`, 'X-Forwarded-For': user.ip, ...extra }
}

function withJson(h: Record<string, string>): Record<string, string> {
  return { ...h, 'Content-Type': 'application/json' }
}

function think(s: Scenario, until: number) {
  pause((s.thinkMs.min + Math.random() * (s.thinkMs.max - s.thinkMs.min)) / 1000, until)
}

/** Retry-After in seconds, exactly as given (a fan far back is told up to a minute). */
function retryAfter(res: Res, fallback: number): number {
  const value = Number(res.headers['Retry-After'])
  return res.headers['Retry-After'] !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback
}

/**
 * One client address per fan, as the Node runner does: one machine plays every fan, so the gateway
 * must be started with TRUSTED_PROXIES=127.0.0.0/8 to take X-Forwarded-For (otherwise every fan
 * shares one address and the per-address limits refuse them).
 */
export function fanAddress(): string {
  const n = exec.scenario.iterationInTest + 1
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
}

/** A fan who arrives now: it gives up waiting in line at `lineUntil` and leaves at `leaveBy`. */
export function newFan(s: Scenario) {
  const userId = `k6-${exec.scenario.name}-${exec.scenario.iterationInTest + 1}`
  const now = Date.now()
  return { userId, token: userToken(userId), ip: fanAddress(), lineUntil: now + s.stay.lineSeconds * 1000, leaveBy: now + longestStaySeconds(s) * 1000 }
}
type Fan = ReturnType<typeof newFan>

/**
 * Joins and polls as told by Retry-After; returns the ACTIVE token, or null (left, sold out,
 * expired, or its time in line is up). A fan told ALL_SEATS_HELD (or PAUSED, NOT_OPEN_YET) keeps
 * polling; SOLD_OUT ends it.
 */
export function waitInLine(s: Scenario, fan: Fan): string | null {
  const join = (extra: Record<string, string> = {}) =>
    politely(() => http.post(`${BASE_URL}/api/queue/token`, JSON.stringify({ concertId: CONCERT_ID }), { headers: withJson(headers(fan, extra)) }), fan.lineUntil)
  let joined = record('join', join())
  // The join challenge is on for the concert: solve it and join again with the proof.
  const proof = proofFor(joined)
  if (proof !== undefined) joined = record('join_proof', join({ 'X-Queue-Proof': proof }))
  if (joined.status !== 201 && joined.status !== 200) return null
  const joinedAt = Date.now()
  let polls = 0
  let queueToken = String(joined.json('token'))
  try {
    if (joined.json('status') === 'ACTIVE') {
      waitInLineTime.add(0)
      return queueToken
    }
    const leaves = Math.random() < s.mix.abandonInLine
    let wait = retryAfter(joined, 1)
    for (;;) {
      pause(wait, fan.lineUntil)
      if (Date.now() >= fan.lineUntil) return null
      if (leaves && Date.now() - joinedAt > 3_000) {
        record('leave', http.del(`${BASE_URL}/api/queue/token`, null, { headers: headers(fan, { 'X-Queue-Token': queueToken }) }))
        return null
      }
      polls++
      const polled = record('poll', http.get(`${BASE_URL}/api/queue/token`, { headers: headers(fan, { 'X-Queue-Token': queueToken }) }))
      if (polled.status !== 200) {
        wait = retryAfter(polled, 2)
        continue
      }
      const reason = polled.json('reason')
      if (typeof reason === 'string') pollReasons.add(1, { reason })
      const status = polled.json('status')
      if (status === 'ACTIVE') {
        waitInLineTime.add(Date.now() - joinedAt)
        return String(polled.json('token') ?? queueToken)
      }
      if (status === 'SOLD_OUT' || status === 'EXPIRED') return null
      queueToken = String(polled.json('token') ?? queueToken)
      wait = retryAfter(polled, 1)
    }
  } finally {
    pollsPerFan.add(polls)
  }
}

/** Once ACTIVE: schedules, seat map, hold a free seat (another on 409), charge if short, pay. */
export function buy(s: Scenario, fan: Fan, activeToken: string): boolean {
  const h = headers(fan, { 'X-Queue-Token': activeToken })
  const until = fan.leaveBy
  const schedules = record(
    'schedules',
    politely(() => http.get(`${BASE_URL}/api/concerts/${CONCERT_ID}/schedules`, { headers: h }), until),
  )
  const list = (schedules.json('schedules') as { scheduleId: string; availableSeats: number }[] | undefined) ?? []
  const open = list.filter((x) => x.availableSeats > 0)
  if (open.length === 0) return false
  const schedule = open[Math.floor(Math.random() * open.length)]!
  think(s, until)
  for (let attempt = 0; attempt < s.holdAttempts && Date.now() < until; attempt++) {
    const seats = record(
      'seats',
      politely(() => http.get(`${BASE_URL}/api/concerts/${CONCERT_ID}/schedules/${schedule.scheduleId}/seats`, { headers: h }), until),
    )
    const free = ((seats.json('seats') as { seatNumber: number; status: string }[] | undefined) ?? []).filter((x) => x.status === 'AVAILABLE')
    if (free.length === 0) return false
    const seat = free[Math.floor(Math.random() * free.length)]!
    const held = record(
      'hold',
      politely(() => http.post(`${BASE_URL}/api/reservations`, JSON.stringify({ scheduleId: schedule.scheduleId, seatNumber: seat.seatNumber }), { headers: withJson(h) }), until),
    )
    if (held.status === 409) continue
    if (held.status !== 201) return false
    if (Math.random() < s.mix.abandonHold) return false
    const reservationId = String(held.json('reservationId'))
    const price = Number(held.json('price'))
    think(s, until)
    if (Date.now() >= until) return false
    const balance = Number(record('points', http.get(`${BASE_URL}/api/points`, { headers: h })).json('balance') ?? 0)
    if (balance < price) {
      record(
        'charge',
        politely(
          () =>
            http.post(`${BASE_URL}/api/points/charge`, JSON.stringify({ amount: price - balance }), { headers: withJson({ ...h, 'Idempotency-Key': `charge-${reservationId}` }) }),
          until,
        ),
      )
    }
    const paid = record(
      'pay',
      politely(() => http.post(`${BASE_URL}/api/payments`, JSON.stringify({ reservationId }), { headers: withJson({ ...h, 'Idempotency-Key': `pay-${reservationId}` }) }), until),
    )
    if (paid.status === 201) seatsSold.add(1)
    return paid.status === 201
  }
  return false
}

/** Gives the ACTIVE slot back, as the site's "leave" button does, so the line moves on. */
export function leave(fan: Fan, activeToken: string): void {
  record('leave', http.del(`${BASE_URL}/api/queue/token`, null, { headers: headers(fan, { 'X-Queue-Token': activeToken }) }))
}

/** A visitor who reads the catalogue and one concert's dates, and leaves when its visit is over. */
export function browseOnce(s: Scenario): void {
  const until = Date.now() + s.stay.visitSeconds * 1000
  const params = { headers: { 'X-Forwarded-For': fanAddress() } }
  const concerts = record(
    'concerts',
    politely(() => http.get(`${BASE_URL}/api/concerts`, params), until),
  )
  const ids = ((concerts.json('concerts') as { concertId: string }[] | undefined) ?? []).map((c) => c.concertId)
  const concertId = ids[Math.floor(Math.random() * ids.length)] ?? CONCERT_ID
  think(s, until)
  record(
    'schedules',
    politely(() => http.get(`${BASE_URL}/api/concerts/${concertId}/schedules`, params), until),
  )
}
