import { describe, expect, it } from 'vitest'
import { balanceOf, charge, ledgerSum, lockWallet, pay, waitFor } from '../helpers/payments.js'
import { aConcert, aHold, buildBookingAndPayment, reservationStatus, seatStatus } from '../helpers/with-booking.js'
import { fromGateway } from '@tickets/testkit'

const { app, booking, url } = await buildBookingAndPayment(import.meta.url, {
  booking: { HOLD_TTL_SECONDS: '1', PAYING_TTL_SECONDS: '1', SWEEP_INTERVAL_MS: '50', HOLD_LIMIT_PER_USER: '20' },
  payment: { BOOKING_RPC_TIMEOUT_MS: '1500' },
})
const PRICE = 10_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function standingPayments(reservationId: string): Promise<number> {
  const [row] = await app.pool.query<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM payments WHERE reservation_id = ? AND status = 'COMPLETED'", [reservationId])
  return Number(row!.n)
}

describe('a payment racing the expiry of its hold', () => {
  it('when payments race hold expiry and rivals, then each seat sells at most once and no charge stays without a seat', async () => {
    const { scheduleId } = await aConcert(booking, { seats: 8, price: PRICE })
    const seats = [1, 2, 3, 4, 5, 6, 7, 8]
    await Promise.all([charge(app, 'fan', 100_000, 'topup'), charge(app, 'rival', 100_000, 'topup')])
    const holds = await Promise.all(seats.map((n) => aHold(booking, 'fan', scheduleId, n)))
    const results = await Promise.all([
      ...holds.map(async (h, i) => {
        await sleep(600 + i * 90)
        return { who: 'fan', reservationId: h.reservationId, res: await pay(app, 'fan', h.reservationId, `fan-${i}`) }
      }),
      ...seats.map(async (n, i) => {
        await sleep(1_050 + i * 40)
        const grab = await booking.inject(fromGateway({ method: 'POST', url: '/api/reservations', headers: { 'x-user-id': 'rival' }, payload: { scheduleId, seatNumber: n } }))
        if (grab.statusCode !== 201) return { who: 'rival', reservationId: '', res: grab }
        const reservationId = grab.json().reservationId as string
        return { who: 'rival', reservationId, res: await pay(app, 'rival', reservationId, `rival-${i}`) }
      }),
    ])
    // Let PENDING confirmations and any refunds settle.
    await waitFor('the outboxes to drain', async () => {
      const [p] = await app.pool.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM outbox_events WHERE published_at IS NULL')
      const [b] = await booking.pool.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM outbox_events WHERE published_at IS NULL')
      return Number(p!.n) === 0 && Number(b!.n) === 0
    })
    await sleep(500)

    let spent = { fan: 0, rival: 0 }
    for (const n of seats) {
      const rows = await booking.pool.query<{ id: string; user_id: 'fan' | 'rival'; status: string }[]>(
        'SELECT id, user_id, status FROM reservations WHERE schedule_id = ? AND seat_number = ?',
        [scheduleId, n],
      )
      const confirmed = rows.filter((r) => r.status === 'CONFIRMED')
      expect(confirmed.length).toBeLessThanOrEqual(1)
      const seat = await seatStatus(booking, scheduleId, n)
      if (confirmed.length === 1) expect(seat).toBe('SOLD')
      else expect(seat).not.toBe('SOLD')
      for (const r of rows) expect(await standingPayments(r.id)).toBe(r.status === 'CONFIRMED' ? 1 : 0)
      for (const c of confirmed) spent = { ...spent, [c.user_id]: spent[c.user_id] + PRICE }
    }
    for (const { reservationId, res } of results) {
      if (res.statusCode === 201) expect(await reservationStatus(booking, reservationId)).toBe('CONFIRMED')
      else expect(res.statusCode).toBeLessThan(500)
    }
    expect(await balanceOf(app, 'fan')).toBe(100_000 - spent.fan)
    expect(await balanceOf(app, 'rival')).toBe(100_000 - spent.rival)
    expect(await ledgerSum(app, 'fan')).toBe(100_000 - spent.fan)
    expect(spent.fan + spent.rival).toBeGreaterThan(0)
  }, 40_000)

  it('when the payment commits after its deadline and the seat went to another, then the charge is refunded at once', async () => {
    const { scheduleId } = await aConcert(booking, { seats: 1, price: PRICE })
    await charge(app, 'slow', PRICE, 'topup')
    await charge(app, 'quick', PRICE, 'topup')
    const { reservationId } = await aHold(booking, 'slow', scheduleId, 1)

    const wallet = await lockWallet(url, 'slow')
    const paying = pay(app, 'slow', reservationId, 'slow-pay')
    await waitFor('BEGIN', async () => (await reservationStatus(booking, reservationId)) === 'PAYING')
    // The PAYING deadline passes, the sweeper frees the seat, and another fan takes and buys it.
    await waitFor('the sweeper', async () => (await reservationStatus(booking, reservationId)) === 'EXPIRED')
    const rival = await aHold(booking, 'quick', scheduleId, 1)
    await wallet.release()

    const res = await paying
    expect(res.statusCode).toBe(409)
    expect(res.json().code).toBe('BOOKING_HOLD_EXPIRED')
    expect(res.json().detail).toContain('refunded')
    expect(await balanceOf(app, 'slow')).toBe(PRICE)
    expect(await ledgerSum(app, 'slow')).toBe(PRICE)
    expect(await standingPayments(reservationId)).toBe(0)

    const bought = await pay(app, 'quick', rival.reservationId, 'quick-pay')
    expect(bought.statusCode).toBe(201)
    expect(await seatStatus(booking, scheduleId, 1)).toBe('SOLD')
    expect(await reservationStatus(booking, reservationId)).toBe('EXPIRED')
  }, 30_000)
})
