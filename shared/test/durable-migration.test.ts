import { AckPolicy, type JsMsg } from '@nats-io/jetstream'
import { nanos } from '@nats-io/transport-node'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import type { BackgroundWork } from '../src/background.js'
import { anEnvelope, SUBJECTS, type ReservationHeld } from '@tickets/contracts/events'
import { connectNats, ensureStream, publishEvent, startConsumer, type ConsumerContext } from '../src/nats.js'
import { isolation } from '@tickets/testkit'

const iso = isolation(import.meta.url)
const bus = await connectNats({ url: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222', name: 'durable-migration', namespace: iso.natsNamespace })
const ctx: ConsumerContext = { bus, service: 'payment', log: pino({ level: 'silent' }) }
const FORMER = 'payment_holds'
const running: BackgroundWork[] = []

afterAll(async () => {
  for (const r of running) await r.stop()
  for (const stream of ['BOOKING_EVENTS', 'DEAD_LETTERS'] as const) await bus.jsm.streams.delete(bus.names.stream(stream)).catch(() => undefined)
  await bus.close()
})

function held(reservationId: string) {
  const data: ReservationHeld = { reservationId, userId: 'u', concertId: 'c', scheduleId: 's', seatNumber: 1, price: 100, expiresAt: new Date().toISOString() }
  return publishEvent(bus, SUBJECTS.RESERVATION_HELD, anEnvelope(SUBJECTS.RESERVATION_HELD, data))
}

async function consumerNames(stream: string): Promise<string[]> {
  const names: string[] = []
  for await (const c of bus.jsm.consumers.list(stream)) names.push(c.name)
  return names.sort()
}

async function until(what: string, check: () => boolean, withinMs = 10_000) {
  const deadline = Date.now() + withinMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Starts the consumer under its new name and records each reservation it is handed. */
async function startRenamed(seen: string[]) {
  const consumer = await startConsumer(ctx, {
    subject: SUBJECTS.RESERVATION_HELD,
    formerDurables: [FORMER],
    async handle(event) {
      seen.push(event.data.reservationId)
    },
  })
  running.push(consumer)
  return consumer
}

describe('a durable consumer renamed to <service>-<entity>-<event>', () => {
  const seen: string[] = []
  let stream: string

  it('when the former durable acked some and holds others, then the new one delivers each unacked once, the acked never', async () => {
    stream = await ensureStream(bus, 'BOOKING_EVENTS')
    const former = bus.names.durable(FORMER)
    await bus.jsm.consumers.add(stream, {
      durable_name: former,
      ack_policy: AckPolicy.Explicit,
      filter_subject: bus.names.subject(SUBJECTS.RESERVATION_HELD),
      ack_wait: nanos(60_000),
    })
    for (const id of ['r1', 'r2', 'r3', 'r4']) await held(id)
    // Another subject in between: the start sequence is a stream sequence, not a count of this subject's messages.
    await publishEvent(
      bus,
      SUBJECTS.RESERVATION_RELEASED,
      anEnvelope(SUBJECTS.RESERVATION_RELEASED, { reservationId: 'x', userId: 'u', concertId: 'c', scheduleId: 's', seatNumber: 1, reason: 'CANCELLED' }),
    )
    for (const id of ['r5', 'r6']) await held(id)

    const delivered: JsMsg[] = []
    const batch = await (await bus.js.consumers.get(stream, former)).fetch({ max_messages: 4, expires: 5_000 })
    for await (const m of batch) delivered.push(m)
    expect(delivered.map((m) => m.json<{ data: ReservationHeld }>().data.reservationId)).toEqual(['r1', 'r2', 'r3', 'r4'])
    for (const m of delivered.slice(0, 2)) expect(await m.ackAck()).toBe(true)

    await startRenamed(seen)
    await until('the four messages the former durable had not acked', () => seen.length >= 4)
    await held('r7')
    await until('a message published after the migration', () => seen.includes('r7'))
    await new Promise((r) => setTimeout(r, 300))

    expect(seen).toEqual(['r3', 'r4', 'r5', 'r6', 'r7'])
    expect(await consumerNames(stream)).toEqual([bus.names.durable('payment-reservation-held')])
  })

  it('when the service starts again on the new durable, then nothing already handled comes back', async () => {
    await running.pop()!.stop()
    seen.length = 0
    await startRenamed(seen)
    await held('r8')
    await until('the next message', () => seen.includes('r8'))
    await new Promise((r) => setTimeout(r, 300))
    expect(seen).toEqual(['r8'])
  })

  it('when a start died between creating the new durable and deleting the former, then the next start finishes it', async () => {
    await running.pop()!.stop()
    seen.length = 0
    await bus.jsm.consumers.add(stream, { durable_name: bus.names.durable(FORMER), ack_policy: AckPolicy.Explicit, filter_subject: bus.names.subject(SUBJECTS.RESERVATION_HELD) })
    await startRenamed(seen)
    await held('r9')
    await until('the next message', () => seen.includes('r9'))
    await new Promise((r) => setTimeout(r, 300))
    expect(seen).toEqual(['r9'])
    expect(await consumerNames(stream)).toEqual([bus.names.durable('payment-reservation-held')])
  })

  it('when no former durable exists, then the new one reads the stream from its start', async () => {
    const fresh: string[] = []
    running.push(
      await startConsumer(
        { ...ctx, service: 'queue' },
        {
          subject: SUBJECTS.RESERVATION_HELD,
          formerDurables: ['queue_never_existed'],
          async handle(event) {
            fresh.push(event.data.reservationId)
          },
        },
      ),
    )
    await until('every message in the stream', () => fresh.length >= 9)
    expect(fresh).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9'])
  })
})
