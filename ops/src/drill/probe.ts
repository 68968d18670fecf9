/** What one request of the probe got: the step, the answer and how long it took. */
export interface Outcome {
  step: string
  status: number
  ms: number
  /** Date.now() when it was sent. */
  at: number
  retryAfter: string | null
  code: string | undefined
  traceId: string | undefined
  /** Why there is no status: no answer within the probe's timeout, or the connection failed. */
  error?: string
}

export interface Payment {
  paymentId: string
  reservationId: string
  userId: string
}

export interface Probe {
  outcomes: Outcome[]
  /** Every payment answered 201 (what the fan was told was paid). */
  paid: Payment[]
  /** Sends until stopped; resolves once every fan has finished its current step. */
  stop(): Promise<void>
}

export interface ProbeOptions {
  gateway: string
  concertId: string
  fans: number
  readers: number
  /** Clients who join the line and leave it again at once, over and over (a join storm); 0 by default. */
  joiners?: number
  userToken(userId: string): Promise<string>
  /** A request with no answer within this is recorded as a hang (status 0). */
  timeoutMs?: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Fans who join the line, poll it, look at the dates and the seat map, hold a seat and pay for it,
 * one after another for as long as the probe runs, plus readers of the catalogue. As a client
 * should, a fan told 503 or 429 with Retry-After waits (at most a second here) and starts again.
 */
export function startProbe(opts: ProbeOptions): Probe {
  const outcomes: Outcome[] = []
  const paid: Payment[] = []
  const timeoutMs = opts.timeoutMs ?? 5_000
  let running = true

  async function call(step: string, method: string, path: string, headers: Record<string, string>, body?: unknown) {
    const at = Date.now()
    const started = performance.now()
    try {
      const res = await fetch(`${opts.gateway}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      })
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown>
      const ms = performance.now() - started
      const traceId = res.headers.get('x-trace-id') ?? (typeof json.traceId === 'string' ? json.traceId : undefined)
      outcomes.push({ step, status: res.status, ms, at, retryAfter: res.headers.get('retry-after'), code: typeof json.code === 'string' ? json.code : undefined, traceId })
      return { status: res.status, json, retryAfter: Number(res.headers.get('retry-after') ?? 0) }
    } catch (err) {
      const ms = performance.now() - started
      const error =
        (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${(err as Error).message}: ${String((err as { cause?: Error }).cause?.message ?? '')}`
      outcomes.push({ step, status: 0, ms, at, retryAfter: null, code: undefined, traceId: undefined, error })
      return { status: 0, json: {} as Record<string, unknown>, retryAfter: 0 }
    }
  }
  const backOff = (r: { retryAfter: number }) => sleep(Math.min(Math.max(r.retryAfter, 0.2), 1) * 1_000)

  async function fan(i: number) {
    const userId = `drill-fan-${i}`
    const h = { authorization: `Bearer ${await opts.userToken(userId)}`, 'x-forwarded-for': `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}` }
    while (running) {
      const joined = await call('join', 'POST', '/api/queue/token', h, { concertId: opts.concertId })
      if (joined.status !== 201 && joined.status !== 200) {
        await backOff(joined)
        continue
      }
      let token = String(joined.json.token ?? '')
      let status = String(joined.json.status ?? '')
      while (running && status !== 'ACTIVE') {
        await sleep(Math.min(Math.max(Number(joined.retryAfter) || 0.5, 0.2), 1) * 1_000)
        const polled = await call('poll', 'GET', '/api/queue/token', { ...h, 'x-queue-token': token })
        if (polled.status !== 200) {
          if (polled.status === 404 || polled.status === 401) break
          continue
        }
        status = String(polled.json.status ?? '')
        token = String(polled.json.token ?? token)
        if (status === 'SOLD_OUT' || status === 'EXPIRED') break
      }
      if (status !== 'ACTIVE') continue
      const ah = { ...h, 'x-queue-token': token }
      await buy(ah, userId)
      await call('leave', 'DELETE', '/api/queue/token', ah)
      await sleep(200)
    }
  }

  async function buy(h: Record<string, string>, userId: string) {
    const schedules = await call('schedules', 'GET', `/api/concerts/${opts.concertId}/schedules`, h)
    const open = ((schedules.json.schedules as { scheduleId: string; availableSeats: number }[] | undefined) ?? []).filter((s) => s.availableSeats > 0)
    const schedule = open[Math.floor(Math.random() * open.length)]
    if (!schedule) return backOff(schedules)
    const seats = await call('seats', 'GET', `/api/concerts/${opts.concertId}/schedules/${schedule.scheduleId}/seats`, h)
    const free = ((seats.json.seats as { seatNumber: number; status: string }[] | undefined) ?? []).filter((s) => s.status === 'AVAILABLE')
    const seat = free[Math.floor(Math.random() * free.length)]
    if (!seat) return backOff(seats)
    const held = await call('hold', 'POST', '/api/reservations', h, { scheduleId: schedule.scheduleId, seatNumber: seat.seatNumber })
    if (held.status !== 201) return backOff(held)
    const reservationId = String(held.json.reservationId)
    const price = Number(held.json.price ?? 0)
    const points = await call('points', 'GET', '/api/points', h)
    const balance = Number(points.json.balance ?? 0)
    if (points.status === 200 && balance < price) {
      await call('charge', 'POST', '/api/points/charge', { ...h, 'idempotency-key': `charge-${reservationId}` }, { amount: Math.max(price - balance, price) })
    }
    // A fan whose payment got no clear answer tries again with the same key: it must never be charged twice.
    for (let attempt = 0; attempt < 4 && running; attempt++) {
      const payment = await call('pay', 'POST', '/api/payments', { ...h, 'idempotency-key': `pay-${reservationId}` }, { reservationId })
      if (payment.status === 201) {
        paid.push({ paymentId: String(payment.json.paymentId), reservationId, userId })
        return
      }
      if (payment.status !== 503 && payment.status !== 0 && payment.status !== 429) return
      await backOff(payment)
    }
  }

  // Each storm client is its own fan at its own address: the per-address token limit applies to each.
  async function joiner(i: number) {
    const h = { authorization: `Bearer ${await opts.userToken(`drill-joiner-${i}`)}`, 'x-forwarded-for': `10.79.${Math.floor(i / 250)}.${(i % 250) + 1}` }
    while (running) {
      const joined = await call('join', 'POST', '/api/queue/token', h, { concertId: opts.concertId })
      if (joined.status !== 201 && joined.status !== 200) {
        await backOff(joined)
        continue
      }
      await call('leave', 'DELETE', '/api/queue/token', { ...h, 'x-queue-token': String(joined.json.token ?? '') })
      await sleep(100)
    }
  }

  async function reader(i: number) {
    const h = { 'x-forwarded-for': `10.78.0.${i + 1}` }
    while (running) {
      const list = await call('catalogue', 'GET', '/api/concerts', h)
      const schedules = await call('schedules', 'GET', `/api/concerts/${opts.concertId}/schedules`, h)
      await sleep(list.status === 200 && schedules.status === 200 ? 250 : 500)
    }
  }

  const workers = [
    ...Array.from({ length: opts.fans }, (_, i) => fan(i + 1)),
    ...Array.from({ length: opts.readers }, (_, i) => reader(i)),
    ...Array.from({ length: opts.joiners ?? 0 }, (_, i) => joiner(i + 1)),
  ]
  return {
    outcomes,
    paid,
    async stop() {
      running = false
      await Promise.all(workers)
    },
  }
}
