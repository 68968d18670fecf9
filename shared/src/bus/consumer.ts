import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AckPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream'
import { headers as natsHeaders, nanos } from '@nats-io/transport-node'
import type { FastifyBaseLogger } from 'fastify'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { durableName, EVENT_SCHEMAS, streamOf, type Envelope, type EventData, type SubjectName } from '@tickets/contracts/events'
import type { BackgroundWork } from '../background.js'
import type { NatsBus } from './connection.js'
import { ensureDurable } from './durables.js'
import { ensureStream } from './streams.js'
import { contextFromHeaders, tracer } from './trace-headers.js'

/** Thrown by a handler for a message that can never succeed: it is parked, not retried. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError'
}

/** What every consumer of a service shares. */
export interface ConsumerContext {
  bus: NatsBus
  /** The consuming service: the first part of each durable's name (see durableName). */
  service: string
  log: FastifyBaseLogger
  /** Counts redeliveries and parked messages per consumer (nats_consumer_redeliveries_total, nats_messages_parked_total). */
  metrics?: Registry
}

export interface Delivery {
  redelivered: boolean
  deliveryCount: number
  /** The consumer's logger. */
  log: FastifyBaseLogger
}

export interface EventConsumerOf<S extends SubjectName> {
  subject: S
  handle(event: Envelope<EventData<S>>, delivery: Delivery): Promise<void>
  /** Names this durable had before it followed durableName: the first that still exists is migrated on start. */
  formerDurables?: readonly string[]
  maxDeliver?: number
  ackWaitMs?: number
  onRedelivery?: () => void
  onParked?: (reason: string) => void
}

/** One durable consumer of one subject; `handle` gets that subject's event data, typed. */
export type EventConsumer = { [S in SubjectName]: EventConsumerOf<S> }[SubjectName]

const pendingReaders = new WeakMap<Registry, Map<string, () => Promise<number>>>()

/** nats_consumer_pending_messages per consumer, read from JetStream when scraped. */
function watchPending(registry: Registry, consumer: string, read: () => Promise<number>) {
  let readers = pendingReaders.get(registry)
  if (!readers) {
    const map = new Map<string, () => Promise<number>>()
    readers = map
    pendingReaders.set(registry, map)
    new Gauge({
      name: 'nats_consumer_pending_messages',
      help: 'Messages not yet delivered to a consumer plus those awaiting its ack',
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        for (const [name, readPending] of map) {
          // NATS unreachable: keep the last value (dependency_up reports the outage).
          const value = await readPending().catch(() => undefined)
          if (value !== undefined) this.set({ consumer: name }, value)
        }
      },
    })
  }
  readers.set(consumer, read)
}

function counterOn(registry: Registry, name: string, help: string): Counter<'consumer'> {
  return (registry.getSingleMetric(name) as Counter<'consumer'> | undefined) ?? new Counter({ name, help, labelNames: ['consumer'], registers: [registry] })
}

function backoffMs(deliveryCount: number): number {
  return Math.min(30_000, 250 * 2 ** Math.min(deliveryCount, 7))
}

/**
 * A durable pull consumer named `<service>-<entity>-<event>` (durableName): validates the envelope,
 * runs the handler inside a CONSUMER span that is a child of the publisher's, acks on success, naks
 * with back-off on failure, and parks poison messages (invalid, or past maxDeliver) on the
 * dead-letter stream with the reason.
 */
export async function startConsumer(ctx: ConsumerContext, spec: EventConsumer): Promise<BackgroundWork> {
  const { bus } = ctx
  const name = durableName(ctx.service, spec.subject)
  const stream = bus.names.stream(streamOf(spec.subject))
  const durable = bus.names.durable(name)
  const log = ctx.log.child({ component: name })
  const maxDeliver = spec.maxDeliver ?? 10
  await ensureStream(bus, streamOf(spec.subject))
  await ensureStream(bus, 'DEAD_LETTERS', { duplicateWindowMs: 60_000 })
  const config = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    filter_subject: bus.names.subject(spec.subject),
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_deliver: -1,
  }
  await ensureDurable(bus, stream, config, spec.formerDurables ?? [])
  const consumer = await bus.js.consumers.get(stream, durable)
  if (ctx.metrics)
    watchPending(ctx.metrics, name, async () => {
      const info = await consumer.info(false)
      return info.num_pending + info.num_ack_pending
    })
  // Pulls expire after 5 s (heartbeats every 2.5 s): a pull left with a server that died, or with a
  // stream leader that moved, is noticed within two missed heartbeats and made again
  // (docs/decisions/nats-stream-replicas.md).
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 64, expires: 5_000 })
  const schema: TSchema = EVENT_SCHEMAS[spec.subject]
  const redeliveries = ctx.metrics && counterOn(ctx.metrics, 'nats_consumer_redeliveries_total', 'Messages delivered again after a failure or a missed ack')
  const parked = ctx.metrics && counterOn(ctx.metrics, 'nats_messages_parked_total', 'Messages moved to the dead-letter stream')

  async function park(m: JsMsg, reason: string) {
    spec.onParked?.(reason)
    parked?.inc({ consumer: name })
    log.error({ subject: m.subject, seq: m.seq, reason }, 'message parked')
    const h = natsHeaders()
    h.set('x-parked-reason', reason.slice(0, 512))
    h.set('x-original-subject', m.subject)
    await bus.js.publish(bus.names.subject(`deadletter.${name}`), m.data, { headers: h, msgID: `${durable}:${m.seq}` })
    m.term(reason.slice(0, 128))
  }

  async function handleOne(m: JsMsg) {
    const deliveryCount = m.info.deliveryCount
    const redelivered = m.redelivered
    if (redelivered) {
      spec.onRedelivery?.()
      redeliveries?.inc({ consumer: name })
    }
    let event: Envelope<never>
    try {
      event = m.json<Envelope<never>>()
    } catch {
      return park(m, 'payload is not JSON')
    }
    if (typeof event !== 'object' || event === null || typeof event.id !== 'string' || !Value.Check(schema, event.data)) {
      return park(m, `payload does not match ${spec.subject}`)
    }
    const parent = contextFromHeaders(m.headers)
    await tracer.startActiveSpan(
      `${spec.subject} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': m.subject, 'messaging.message.id': event.id, 'messaging.consumer.group.name': durable },
      },
      parent,
      async (span) => {
        try {
          // The schema check above makes `data` the subject's EventData.
          await spec.handle(event, { redelivered, deliveryCount, log })
          m.ack()
        } catch (err) {
          span.recordException(err as Error)
          span.setStatus({ code: SpanStatusCode.ERROR })
          if (err instanceof PoisonMessageError) await park(m, err.message)
          else if (deliveryCount >= maxDeliver) await park(m, `gave up after ${deliveryCount} deliveries: ${(err as Error).message}`)
          else {
            log.warn({ err, subject: m.subject, eventId: event.id, deliveryCount }, 'event handling failed, will retry')
            m.nak(backoffMs(deliveryCount))
          }
        } finally {
          span.end()
        }
      },
    )
  }

  const done = (async () => {
    for await (const m of messages) {
      try {
        await handleOne(m)
      } catch (err) {
        log.error({ err, subject: m.subject }, 'consumer loop error')
        m.nak(1_000)
      }
    }
  })()

  return {
    async stop() {
      await messages.close().catch(() => undefined)
      await done.catch(() => undefined)
    },
  }
}

/** Starts every consumer of a service; stopping stops them all. */
export async function startConsumers(ctx: ConsumerContext, specs: readonly EventConsumer[]): Promise<BackgroundWork> {
  const running = await Promise.all(specs.map((spec) => startConsumer(ctx, spec)))
  return {
    async stop() {
      await Promise.all(running.map((c) => c.stop()))
    },
  }
}
