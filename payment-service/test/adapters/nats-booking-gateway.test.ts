import { RPC, type PaymentRpcReply } from '@tickets/contracts/events'
import type { Msg } from '@nats-io/transport-node'
import { afterEach, expect, it } from 'vitest'
import { createNatsBookingGateway } from '../../src/adapters/nats-booking-gateway.js'
import { buildTestApp } from '../helpers/build-test-app.js'

// This file's own NATS namespace: the only responders on its subjects are the ones below.
const { app } = await buildTestApp(import.meta.url)
const bus = app.nats
const request = { reservationId: 'r1', userId: 'u1', paymentId: 'p1' }
const held: PaymentRpcReply = {
  ok: true,
  reservation: { reservationId: 'r1', userId: 'u1', concertId: 'c1', scheduleId: 's1', seatNumber: 1, price: 100, status: 'PAYING', expiresAt: new Date().toISOString() },
}

let stopResponder: (() => void) | undefined
afterEach(() => stopResponder?.())

/** A booking stand-in on BEGIN: `answer` decides, per delivery (1, 2, ...), whether it replies. */
function beginResponder(answer: (delivery: number, m: Msg) => boolean) {
  let delivery = 0
  const sub = bus.nc.subscribe(bus.names.subject(RPC.BEGIN_PAYMENT), {
    callback: (_err, m) => {
      if (answer(++delivery, m)) m.respond(JSON.stringify(held))
    },
  })
  stopResponder = () => sub.unsubscribe()
  return () => delivery
}

async function timed<T>(work: () => Promise<T>) {
  const started = performance.now()
  const value = await work()
  return { value, ms: performance.now() - started }
}

it('when the instance that took a request dies with it, then the request is sent again and the next one answers', async () => {
  const deliveries = beginResponder((n) => n > 1)
  const gateway = createNatsBookingGateway(bus, { timeoutMs: 3_000, attemptMs: 300 })
  const { value, ms } = await timed(() => gateway.beginPayment(request))
  expect(value).toEqual({ kind: 'answered', reply: held })
  expect(deliveries()).toBe(2)
  expect(ms).toBeGreaterThanOrEqual(290)
  expect(ms).toBeLessThan(1_000)
})

it('when nobody answers at all, then the caller hears "unreachable" once the whole timeout is spent, after two attempts', async () => {
  const deliveries = beginResponder(() => false)
  const gateway = createNatsBookingGateway(bus, { timeoutMs: 800, attemptMs: 300 })
  const { value, ms } = await timed(() => gateway.beginPayment(request))
  expect(value.kind).toBe('unreachable')
  expect(deliveries()).toBe(2)
  expect(ms).toBeGreaterThanOrEqual(790)
  expect(ms).toBeLessThan(1_300)
})

it('when no instance listens at all, then "unreachable" at once, without a second attempt', async () => {
  const gateway = createNatsBookingGateway(bus, { timeoutMs: 3_000, attemptMs: 300 })
  const { value, ms } = await timed(() => gateway.beginPayment(request))
  expect(value.kind).toBe('unreachable')
  expect(ms).toBeLessThan(200)
})

it('the responder is told how long the caller listens: the attempt time, not the whole timeout', async () => {
  let within: string | undefined
  beginResponder((_n, m) => {
    within = m.headers?.get('Answer-Within-Ms')
    return true
  })
  const gateway = createNatsBookingGateway(bus, { timeoutMs: 3_000, attemptMs: 300 })
  expect((await gateway.beginPayment(request)).kind).toBe('answered')
  expect(within).toBe('300')
})
