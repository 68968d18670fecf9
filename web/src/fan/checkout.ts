import { byId, el, setText, showView } from '../common/dom.js'
import { ProblemError } from '../common/problem.js'
import { call } from './api.js'
import { clock, count, dateTime, won } from './format.js'
import { clearProblem, showProblem } from './problem-banner.js'
import type { Concert } from './waiting.js'

interface Schedule {
  scheduleId: string
  startsAt: string
  availableSeats: number
  totalSeats: number
}
interface Seat {
  seatNumber: number
  grade: string
  price: number
  status: 'AVAILABLE' | 'HELD' | 'SOLD'
}
interface Hold {
  reservationId: string
  price: number
  expiresAt: string
  seatNumber: number
  schedule: Schedule
}
interface Payment {
  paymentId: string
  amount: number
}

/** How often an admitted fan's seat map asks for the seats again, so held seats that come back show up. */
const SEAT_MAP_REFRESH_MS = 5_000

const STATUS_WORDS = { AVAILABLE: 'free', HELD: 'on hold', SOLD: 'sold' } as const

/** Once admitted: the seat map, a hold with its countdown, points, payment (one Idempotency-Key per hold) and the confirmation. */
export function createCheckout(opts: { onTurnEnded(): void }) {
  let concert: Concert
  let queueToken: string
  let activeUntil: number | undefined
  let schedules: Schedule[] = []
  let hold: Hold | undefined
  let balance = 0
  let seatTimer: ReturnType<typeof setInterval> | undefined
  let clockTimer: ReturnType<typeof setInterval> | undefined
  // One key per hold: a second click, a retry after a lost answer or a reload sends the same key, so the seat is paid once.
  const payKeys = new Map<string, string>()
  let chargeKey: string | undefined

  const failed = (err: unknown) => {
    if (!(err instanceof ProblemError)) throw err
    showProblem(err.problem)
    return err.problem
  }

  function stopTimers(): void {
    clearInterval(seatTimer)
    clearInterval(clockTimer)
  }

  function tick(): void {
    const now = Date.now()
    if (activeUntil !== undefined) {
      const left = (activeUntil - now) / 1000
      setText('active-left', `Your turn lasts ${clock(left)} more.`)
      if (left <= 0 && !hold) {
        stopTimers()
        opts.onTurnEnded()
        return
      }
    }
    if (hold) {
      const left = (Date.parse(hold.expiresAt) - now) / 1000
      setText('hold-countdown', clock(left))
      if (left <= 0) {
        hold = undefined
        showProblem({ status: 409, code: 'BOOKING_HOLD_EXPIRED', title: '' })
        void showSeats()
      }
    }
  }

  async function loadSeats(): Promise<void> {
    const select = byId<HTMLSelectElement>('schedule')
    const scheduleId = select.value
    try {
      const { body } = await call<{ seats: Seat[] }>('GET', `/api/concerts/${concert.concertId}/schedules/${scheduleId}/seats`, { queueToken })
      const map = byId('seat-map')
      map.replaceChildren(
        ...body.seats.map((seat) => {
          const button = el('button', { type: 'button', className: seat.status.toLowerCase(), textContent: String(seat.seatNumber), disabled: seat.status !== 'AVAILABLE' })
          button.setAttribute('aria-label', `Seat ${seat.seatNumber}, ${seat.grade}, ${won(seat.price)}, ${STATUS_WORDS[seat.status]}`)
          button.dataset.seat = String(seat.seatNumber)
          button.addEventListener('click', () => void holdSeat(scheduleId, seat.seatNumber))
          return button
        }),
      )
      const free = body.seats.filter((s) => s.status === 'AVAILABLE').length
      setText('seats-updated', `${count(free)} of ${count(body.seats.length)} seats free, as of ${new Date().toLocaleTimeString()}.`)
    } catch (err) {
      failed(err)
    }
  }

  async function showSeats(): Promise<void> {
    hold = undefined
    setText('seats-updated', 'Loading the seats…')
    showView('seats')
    if (schedules.length === 0) {
      try {
        schedules = (await call<{ schedules: Schedule[] }>('GET', `/api/concerts/${concert.concertId}/schedules`)).body.schedules
      } catch (err) {
        failed(err)
        return
      }
      const select = byId<HTMLSelectElement>('schedule')
      select.replaceChildren(...schedules.map((s) => el('option', { value: s.scheduleId, textContent: `${dateTime(s.startsAt)} (${count(s.availableSeats)} free)` })))
      const open = schedules.find((s) => s.availableSeats > 0)
      if (open) select.value = open.scheduleId
    }
    await loadSeats()
    clearInterval(seatTimer)
    seatTimer = setInterval(() => void loadSeats(), SEAT_MAP_REFRESH_MS)
  }

  async function holdSeat(scheduleId: string, seatNumber: number): Promise<void> {
    try {
      const { body } = await call<Hold>('POST', '/api/reservations', { queueToken, body: { scheduleId, seatNumber } })
      clearProblem()
      clearInterval(seatTimer)
      hold = { ...body, seatNumber, schedule: schedules.find((s) => s.scheduleId === scheduleId)! }
      setText('hold-seat', String(seatNumber))
      setText('hold-price', won(hold.price))
      setText('pay-status', '')
      byId<HTMLButtonElement>('pay').disabled = false
      showView('hold')
      tick()
      await loadPoints()
    } catch (err) {
      failed(err)
      await loadSeats()
    }
  }

  async function loadPoints(): Promise<void> {
    try {
      balance = (await call<{ balance: number }>('GET', '/api/points')).body.balance
    } catch (err) {
      failed(err)
    }
    setText('points-balance', count(balance))
    const missing = hold ? Math.max(0, hold.price - balance) : 0
    byId('points-short').hidden = missing === 0
    setText('points-missing', count(missing))
    const charge = byId<HTMLButtonElement>('charge')
    charge.hidden = missing === 0
    charge.textContent = `Add ${count(missing)} points`
    charge.dataset.amount = String(missing)
  }

  async function charge(): Promise<void> {
    const button = byId<HTMLButtonElement>('charge')
    const amount = Number(button.dataset.amount)
    if (!(amount > 0)) return
    button.disabled = true
    chargeKey ??= crypto.randomUUID()
    try {
      await call('POST', '/api/points/charge', { body: { amount }, idempotencyKey: chargeKey })
      chargeKey = undefined
      clearProblem()
    } catch (err) {
      // A refused charge is final for that key; an unanswered one keeps it, so trying again cannot add twice.
      if (failed(err).status < 500) chargeKey = undefined
    } finally {
      button.disabled = false
      await loadPoints()
    }
  }

  async function pay(): Promise<void> {
    const button = byId<HTMLButtonElement>('pay')
    if (!hold || button.disabled) return
    const current = hold
    button.disabled = true
    setText('pay-status', 'Paying…')
    let key = payKeys.get(current.reservationId)
    if (!key) payKeys.set(current.reservationId, (key = crypto.randomUUID()))
    for (;;) {
      try {
        const { body } = await call<Payment>('POST', '/api/payments', { queueToken, idempotencyKey: key, body: { reservationId: current.reservationId } })
        clearProblem()
        return done(current, body)
      } catch (err) {
        const problem = failed(err)
        if (problem.code === 'IDEMPOTENCY_IN_PROGRESS') {
          await new Promise((r) => setTimeout(r, 1_000))
          continue
        }
        if (problem.status < 500 && problem.status !== 0) payKeys.delete(current.reservationId)
        setText('pay-status', '')
        button.disabled = false
        if (problem.code === 'PAYMENT_INSUFFICIENT_POINTS') await loadPoints()
        return
      }
    }
  }

  function done(paid: Hold, payment: Payment): void {
    stopTimers()
    hold = undefined
    setText('done-concert', `${concert.title} · ${concert.artist}`)
    setText('done-date', dateTime(paid.schedule.startsAt))
    setText('done-seat', String(paid.seatNumber))
    setText('done-amount', won(payment.amount))
    setText('done-payment', payment.paymentId)
    showView('done')
  }

  async function release(): Promise<void> {
    if (!hold) return
    try {
      await call('DELETE', `/api/reservations/${hold.reservationId}`)
      clearProblem()
    } catch (err) {
      failed(err)
    }
    await showSeats()
  }

  byId('schedule').addEventListener('change', () => void loadSeats())
  byId('charge').addEventListener('click', () => void charge())
  byId('pay').addEventListener('click', () => void pay())
  byId('release').addEventListener('click', () => void release())

  return {
    start(c: Concert, token: string, until: string | undefined): void {
      concert = c
      queueToken = token
      activeUntil = until ? Date.parse(until) : undefined
      schedules = []
      clearInterval(clockTimer)
      clockTimer = setInterval(tick, 1_000)
      tick()
      void showSeats()
    },
    stop: stopTimers,
  }
}
