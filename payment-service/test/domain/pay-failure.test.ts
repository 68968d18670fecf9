import { AppError } from '@tickets/contracts/errors'
import { expect, it } from 'vitest'
import { createPaymentService } from '../../src/domain/payment-service.js'
import type { BookingGateway, PaymentStore } from '../../src/domain/ports.js'

const reservation = { reservationId: 'r1', userId: 'u1', concertId: 'c1', scheduleId: 's1', seatNumber: 1, price: 1_000, status: 'PAYING', expiresAt: new Date().toISOString() }

it("when the charge cannot be written (database busy), then pay fails at once, not waiting for booking's undo", async () => {
  const aborts: string[] = []
  const booking: BookingGateway = {
    beginPayment: async () => ({ kind: 'answered', reply: { ok: true, reservation } }),
    confirmPayment: async () => ({ kind: 'unreachable', reason: 'not expected' }),
    // A booking instance that is restarting: no answer until the caller's timeout.
    abortPayment: (r) => {
      aborts.push(r.paymentId)
      return new Promise(() => undefined)
    },
  }
  const busy = new AppError('COMMON_OVERLOADED', 'No database connection free in time; retry shortly')
  const payments = {
    findEarlierAndStanding: async () => ({ earlier: null, standing: null }),
    completePayment: async () => Promise.reject(busy),
  } as unknown as PaymentStore
  const service = createPaymentService({
    payments,
    booking,
    events: { kick: () => undefined },
    metrics: { outcome: () => undefined, refunded: () => undefined },
    log: { warn: () => undefined },
  })
  const started = performance.now()
  await expect(service.pay({ userId: 'u1', reservationId: 'r1', requestKey: 'k1' })).rejects.toBe(busy)
  expect(performance.now() - started).toBeLessThan(100)
  expect(aborts).toHaveLength(1)
})
