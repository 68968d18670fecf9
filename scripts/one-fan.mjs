// One fan taken through a running gateway the way a real one goes: join the line, poll until
// ACTIVE, hold an available seat, charge points, pay. Used by the container checks
// (images-check.mjs, compose-check.mjs) against the gateway they started. Needs the packages built.
import { randomUUID } from 'node:crypto'

/** GET `${url}` until it answers 2xx, or throws after deadlineMs; `describe()` adds to the error. */
export async function waitForOk(url, { deadlineMs = 90_000, what = url, describe = () => '' } = {}) {
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(3_000) }).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${what} is not ready at ${url} after ${deadlineMs / 1000} s${describe()}`)
}

/**
 * A 503 with Retry-After is the gateway asking the fan to come back (it sheds load when the machine
 * is busy): the fan waits as told, at most 5 s a time, and tries again with the same request
 * (idempotency key included) until `retryBudgetMs` is spent.
 */
function client(gateway, bearer, { log, retryBudgetMs }) {
  const once = async (method, path, { body, queueToken, headers = {} }) => {
    const h = { authorization: bearer, ...headers }
    if (queueToken) h['x-queue-token'] = queueToken
    if (body !== undefined) h['content-type'] = 'application/json'
    const res = await fetch(`${gateway}${path}`, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(10_000) })
    const text = await res.text()
    return { status: res.status, retryAfter: Number(res.headers.get('retry-after')), body: text ? JSON.parse(text) : undefined }
  }
  const api = async (method, path, options = {}) => {
    const giveUpAt = Date.now() + retryBudgetMs
    for (;;) {
      const res = await once(method, path, options)
      if (res.status !== 503 || !(res.retryAfter >= 0) || Date.now() > giveUpAt) return res
      const seconds = Math.min(Math.max(res.retryAfter, 0.2), 5)
      log(`${method} ${path}: 503 ${res.body?.code ?? ''}, again in ${seconds} s as Retry-After says`)
      await new Promise((r) => setTimeout(r, seconds * 1000))
    }
  }
  const expect = (res, status, what) => {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`)
    return res.body
  }
  return { api, expect }
}

/**
 * Takes user `userId` (a JWT signed with `secret`) through join → ACTIVE → hold → charge → pay at
 * `gateway`, logging each step with `log`. Returns what it bought. Throws on any unexpected answer
 * (a 503 only once its retries are spent).
 */
export async function driveOneFan({ gateway, secret, log, userId = '1', admitWithinMs = 20_000, retryBudgetMs = 60_000 }) {
  const { signUserToken } = await import('@tickets/contracts/auth')
  const { api, expect } = client(gateway, `Bearer ${await signUserToken({ secret, userId, ttlSeconds: 600 })}`, { log, retryBudgetMs })
  const { concerts } = expect(await api('GET', '/api/concerts'), 200, 'GET /api/concerts')
  const concertId = concerts[0].concertId
  const { schedules } = expect(await api('GET', `/api/concerts/${concertId}/schedules`), 200, 'GET schedules')
  const scheduleId = schedules[0].scheduleId
  let token = expect(await api('POST', '/api/queue/token', { body: { concertId } }), 201, 'join the line').token
  log('joined the line')
  const admitBy = Date.now() + admitWithinMs
  for (;;) {
    const poll = expect(await api('GET', '/api/queue/token', { queueToken: token }), 200, 'poll the line')
    if (poll.status === 'ACTIVE') {
      token = poll.token ?? token
      break
    }
    if (Date.now() > admitBy) throw new Error(`not admitted within ${admitWithinMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 100))
  }
  log('ACTIVE')
  const { seats } = expect(await api('GET', `/api/concerts/${concertId}/schedules/${scheduleId}/seats`, { queueToken: token }), 200, 'seat map')
  const seat = seats.find((s) => s.status === 'AVAILABLE')
  if (!seat) throw new Error('no AVAILABLE seat on the first schedule')
  const hold = expect(await api('POST', '/api/reservations', { queueToken: token, body: { scheduleId, seatNumber: seat.seatNumber } }), 201, 'hold a seat')
  log(`held seat ${seat.seatNumber}`)
  expect(await api('POST', '/api/points/charge', { body: { amount: 100_000 }, headers: { 'idempotency-key': randomUUID() } }), 200, 'charge points')
  log('charged points')
  const paid = expect(
    await api('POST', '/api/payments', { queueToken: token, body: { reservationId: hold.reservationId }, headers: { 'idempotency-key': randomUUID() } }),
    201,
    'pay',
  )
  log(`paid (${paid.confirmation ?? 'confirmed'})`)
  return { concertId, scheduleId, seatNumber: seat.seatNumber, reservationId: hold.reservationId }
}
