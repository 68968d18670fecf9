import { randomUUID } from 'node:crypto'
import { nextPollSeconds } from '@tickets/contracts/poll-timing'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Scenario } from '../scenarios.js'
import type { Client, Reply } from './client.js'
import { joinLine } from './join-challenge.js'
import type { Stats } from './stats.js'

export interface Fan {
  userId: string
  token: string
  ip: string
}

export interface JourneyContext {
  scenario: Scenario
  client: Client
  stats: Stats
  concertId: string
  /** Stops polling when the run is over. */
  deadline: number
  random: () => number
}

function auth(fan: Fan, extra: Record<string, string> = {}) {
  // One machine plays many fans: the gateway trusts X-Forwarded-For from loopback when TRUSTED_PROXIES says so.
  return { authorization: `Bearer ${fan.token}`, 'x-forwarded-for': fan.ip, ...extra }
}

async function think(ctx: JourneyContext) {
  const { min, max } = ctx.scenario.thinkMs
  if (max > 0) await sleep(min + ctx.random() * (max - min))
}

function field<T>(reply: Reply, name: string): T | undefined {
  return reply.body && typeof reply.body === 'object' ? ((reply.body as Record<string, unknown>)[name] as T) : undefined
}

/**
 * Joins the line (solving the join challenge when the concert has it on) and polls as told by
 * Retry-After, however far off it is (a fan far back is told to come back in up to a minute), by the
 * fan's page's own rule (nextPollSeconds). A fan told
 * ALL_SEATS_HELD keeps polling; SOLD_OUT ends the wait.
 * A fan in the pre-queue polls the same way until the draw places them (a new token).
 * Returns the ACTIVE token, or null.
 */
export async function waitInLine(ctx: JourneyContext, fan: Fan): Promise<string | null> {
  const { client, stats } = ctx
  const joined = await joinLine(client, auth(fan), ctx.concertId)
  if (joined.status !== 201 && joined.status !== 200) return null
  let queueToken = field<string>(joined, 'token') ?? ''
  const entryId = field(joined, 'status') === 'PRE_QUEUE' ? (field<string>(joined, 'entryId') ?? null) : null
  const inLine = stats.line.joined(queueToken, Date.now(), entryId)
  if (field(joined, 'status') === 'ACTIVE') {
    stats.line.admitted(inLine, field(joined, 'activeUntil'))
    stats.gauge({ admitted: stats.admitted + 1 })
    return queueToken
  }
  stats.gauge({ inLine: stats.inLine + 1 })
  const leaves = ctx.random() < ctx.scenario.mix.abandonInLine
  let wait = nextPollSeconds({ ok: true, retryAfter: joined.retryAfter })
  try {
    while (Date.now() < ctx.deadline) {
      await sleep(wait * 1000)
      if (leaves && Date.now() - inLine.joinedAt > 3_000) {
        await client.callPolitely('leave', 'DELETE', '/api/queue/token', auth(fan, { 'x-queue-token': queueToken }))
        stats.abandoned++
        return null
      }
      stats.line.polled(inLine)
      const polled = await client.call('poll', 'GET', '/api/queue/token', auth(fan, { 'x-queue-token': queueToken }))
      if (polled.status !== 200) {
        wait = nextPollSeconds({ ok: false, retryAfter: polled.retryAfter })
        continue
      }
      stats.line.answered(polled.body)
      const status = field<string>(polled, 'status')
      queueToken = field<string>(polled, 'token') ?? queueToken
      stats.line.placed(inLine, queueToken)
      if (status === 'ACTIVE') {
        stats.line.admitted(inLine, field(polled, 'activeUntil'))
        stats.gauge({ admitted: stats.admitted + 1 })
        return queueToken
      }
      if (status === 'SOLD_OUT') stats.line.toldSoldOut(inLine)
      if (status === 'SOLD_OUT' || status === 'EXPIRED') return null
      wait = nextPollSeconds({ ok: true, retryAfter: polled.retryAfter })
    }
    return null
  } finally {
    stats.gauge({ inLine: stats.inLine - 1 })
  }
}

/** Once ACTIVE: schedules, seat map, a hold (another seat on 409), points if short, payment. */
export async function buy(ctx: JourneyContext, fan: Fan, activeToken: string, activeUntil = Math.min(ctx.deadline, Date.now() + 9 * 60_000)): Promise<boolean> {
  const { client, stats, scenario } = ctx
  const h = auth(fan, { 'x-queue-token': activeToken })
  stats.gauge({ active: stats.active + 1 })
  try {
    const schedules = await client.callPolitely('schedules', 'GET', `/api/concerts/${ctx.concertId}/schedules`, h)
    const list = field<{ scheduleId: string; availableSeats: number }[]>(schedules, 'schedules') ?? []
    const open = list.filter((s) => s.availableSeats > 0)
    // None free: still look at a date's map, where held seats may come back.
    const candidates = open.length > 0 ? open : list
    if (candidates.length === 0) return false
    let schedule = candidates[Math.floor(ctx.random() * candidates.length)]!
    await think(ctx)
    for (let attempt = 0; attempt < scenario.holdAttempts; attempt++) {
      let free: { seatNumber: number; status: string }[] = []
      // Nothing free but seats still held: a fan keeps refreshing the map while admitted, since
      // holds that are not paid come back (abandoned carts), and looks at the other dates too, as
      // their seat counts show. Sold out: nothing will come back.
      for (;;) {
        const seats = await client.callPolitely('seats', 'GET', `/api/concerts/${ctx.concertId}/schedules/${schedule.scheduleId}/seats`, h)
        const all = field<{ seatNumber: number; status: string }[]>(seats, 'seats') ?? []
        free = all.filter((s) => s.status === 'AVAILABLE')
        if (free.length > 0 || !all.some((s) => s.status === 'HELD') || Date.now() > activeUntil) break
        await sleep(5_000 + ctx.random() * 5_000)
        const again = await client.callPolitely('schedules', 'GET', `/api/concerts/${ctx.concertId}/schedules`, h)
        const elsewhere = (field<{ scheduleId: string; availableSeats: number }[]>(again, 'schedules') ?? []).filter((s) => s.availableSeats > 0)
        if (elsewhere.length > 0 && !elsewhere.some((s) => s.scheduleId === schedule.scheduleId)) schedule = elsewhere[Math.floor(ctx.random() * elsewhere.length)]!
      }
      if (free.length === 0) return false
      const seat = free[Math.floor(ctx.random() * free.length)]!
      const held = await client.callPolitely('hold', 'POST', '/api/reservations', h, { scheduleId: schedule.scheduleId, seatNumber: seat.seatNumber })
      if (held.status === 409) continue
      if (held.status !== 201) return false
      if (ctx.random() < scenario.mix.abandonHold) {
        stats.abandoned++
        return false
      }
      const reservationId = field<string>(held, 'reservationId')!
      const price = field<number>(held, 'price') ?? 0
      await think(ctx)
      const points = await client.callPolitely('points', 'GET', '/api/points', h)
      const balance = field<number>(points, 'balance') ?? 0
      if (balance < price) {
        await client.callPolitely('charge', 'POST', '/api/points/charge', { ...h, 'idempotency-key': `charge-${reservationId}` }, { amount: price - balance })
      }
      const paid = await client.callPolitely('pay', 'POST', '/api/payments', { ...h, 'idempotency-key': `pay-${reservationId}` }, { reservationId })
      if (paid.status === 201) {
        stats.gauge({ sold: stats.sold + 1 })
        stats.line.sold()
      }
      return paid.status === 201
    }
    return false
  } finally {
    stats.gauge({ active: stats.active - 1 })
  }
}

export async function browseOnce(ctx: JourneyContext, fan: Fan): Promise<void> {
  const concerts = await ctx.client.callPolitely('concerts', 'GET', '/api/concerts', { 'x-forwarded-for': fan.ip })
  const ids = (field<{ concertId: string }[]>(concerts, 'concerts') ?? []).map((c) => c.concertId)
  const concertId = ids[Math.floor(ctx.random() * ids.length)] ?? ctx.concertId
  await think(ctx)
  await ctx.client.callPolitely('schedules', 'GET', `/api/concerts/${concertId}/schedules`, { 'x-forwarded-for': fan.ip })
}

export async function runJourney(ctx: JourneyContext, fan: Fan): Promise<void> {
  const journey = ctx.scenario.journey
  if (journey === 'browse' || (journey === 'mixed' && ctx.random() < 0.5)) return browseOnce(ctx, fan)
  const active = await waitInLine(ctx, fan)
  if (journey === 'join-and-poll') {
    if (active) await ctx.client.callPolitely('leave', 'DELETE', '/api/queue/token', auth(fan, { 'x-queue-token': active }))
    return
  }
  if (!active) return
  // A fan who leaves without buying gives the slot back, as the site's "leave" button does;
  // otherwise it stays ACTIVE until it times out and the line waits for it.
  if (!(await buy(ctx, fan, active))) await ctx.client.callPolitely('leave', 'DELETE', '/api/queue/token', auth(fan, { 'x-queue-token': active }))
}

export function runId(): string {
  return randomUUID().slice(0, 8)
}
