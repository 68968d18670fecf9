import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream'
import { connect, headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Counter, Gauge, type Registry } from 'prom-client'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import type { BackgroundWork } from './background.js'
import { contextFromHeaders, inClientSpan, traceHeaders, tracer } from './nats-trace.js'
import { durableName, EVENT_SCHEMAS, natsNames, streamOf, type Envelope, type EventData, type NatsNames, type StreamName, type SubjectName } from '@tickets/contracts/events'

export interface NatsBus {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  names: NatsNames
  /** Replicas of every stream this process creates (NATS_STREAM_REPLICAS): 3 on a cluster of three survives one server lost. */
  streamReplicas: number
  /** False while the client is reconnecting: readiness reports NATS DOWN at once instead of hanging. */
  isConnected(): boolean
  ping(): Promise<void>
  close(): Promise<void>
}

/** `url` may list several servers of one cluster, comma-separated: the client connects to any and fails over to the others. */
export async function connectNats(opts: { url: string; name: string; namespace: string; streamReplicas?: number; log?: FastifyBaseLogger }): Promise<NatsBus> {
  let nc: NatsConnection
  try {
    const servers = opts.url
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    nc = await connect({ servers, name: opts.name, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 5_000 })
  } catch (err) {
    throw new Error(`cannot reach NATS at ${opts.url}: start nats-server with JetStream (-js) or set NATS_URL`, { cause: err })
  }
  let connected = true
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected = false
        opts.log?.warn({ server: opts.url }, 'nats disconnected')
      } else if (s.type === 'reconnect') {
        connected = true
        opts.log?.info({ server: opts.url }, 'nats reconnected')
      }
    }
  })()
  const jsm = await jetstreamManager(nc)
  return {
    nc,
    js: jetstream(nc),
    jsm,
    names: natsNames(opts.namespace),
    streamReplicas: opts.streamReplicas ?? 1,
    isConnected: () => connected && !nc.isClosed(),
    async ping() {
      if (!connected || nc.isClosed()) throw new Error('nats is not connected')
      await nc.flush()
    },
    async close() {
      if (!nc.isClosed()) await nc.drain()
    },
  }
}

/**
 * How long an event stream keeps its messages. Events are for consumers that run all the time; a
 * week covers any outage and is what consumers' dedup records must outlive (see retention.ts).
 */
export const EVENT_STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000
/** Parked messages wait for a person, who may be away for a while. */
export const DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3_600_000

/**
 * Creates the stream if missing (idempotent: several instances start at once), and gives a stream
 * made before it had a maximum age, or with fewer replicas than asked, the ones it should have.
 */
export async function ensureStream(bus: NatsBus, stream: StreamName, opts: { duplicateWindowMs?: number } = {}): Promise<string> {
  const name = bus.names.stream(stream)
  const maxAge = nanos(stream === 'DEAD_LETTERS' ? DEAD_LETTER_MAX_AGE_MS : EVENT_STREAM_MAX_AGE_MS)
  const replicas = bus.streamReplicas
  const config = { name, subjects: bus.names.streamSubjects(stream), duplicate_window: nanos(opts.duplicateWindowMs ?? 120_000), max_age: maxAge, num_replicas: replicas }
  let existing: Awaited<ReturnType<typeof bus.jsm.streams.info>> | undefined
  try {
    existing = await bus.jsm.streams.info(name)
  } catch {
    try {
      await bus.jsm.streams.add(config)
    } catch (err) {
      if (!/already in use/i.test((err as Error).message)) throw err
    }
  }
  if (existing && (existing.config.max_age !== maxAge || existing.config.num_replicas < replicas)) {
    await bus.jsm.streams.update(name, { max_age: maxAge, num_replicas: Math.max(existing.config.num_replicas, replicas) })
  }
  return name
}

/** Publishes to JetStream with msgID = event id, so a repeat inside the duplicate window is dropped. */
export async function publishEvent(bus: NatsBus, subject: SubjectName, event: Envelope, opts: { timeoutMs?: number } = {}) {
  const wire = bus.names.subject(subject)
  return inClientSpan(
    `${subject} publish`,
    { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': wire, 'messaging.message.id': event.id } },
    async (span) => {
      const ack = await bus.js.publish(wire, JSON.stringify(event), { msgID: event.id, headers: traceHeaders(), timeout: opts.timeoutMs ?? 5_000 })
      span.setAttribute('messaging.nats.duplicate', ack.duplicate)
      return ack
    },
  )
}

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

function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound
}

async function consumerInfo(bus: NatsBus, stream: string, durable: string): Promise<ConsumerInfo | undefined> {
  try {
    return await bus.jsm.consumers.info(stream, durable)
  } catch (err) {
    if (isConsumerNotFound(err)) return undefined
    throw err
  }
}

/**
 * Creates the durable if it is missing (several instances may race: the loser finds it made). When
 * it still exists under a former name, the new durable starts right after the former one's ack floor
 * and the former one is deleted: what was acked is not delivered again and nothing is skipped. What
 * the former one delivered without an ack comes again through the new one; handlers are idempotent
 * by event id (processed events), so that repeats no effect. A former durable left by a start that
 * died between the two steps is deleted on the next start.
 */
async function ensureDurable(bus: NatsBus, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }, formerDurables: readonly string[]) {
  const formers: { name: string; ackFloor: number }[] = []
  for (const name of formerDurables.map(bus.names.durable)) {
    const info = await consumerInfo(bus, stream, name)
    if (info) formers.push({ name, ackFloor: info.ack_floor.stream_seq })
  }
  if (!(await consumerInfo(bus, stream, config.durable_name))) {
    const ackFloor = Math.min(...formers.map((f) => f.ackFloor))
    const start = formers.length > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: ackFloor + 1 } : {}
    await bus.jsm.consumers.add(stream, { ...config, ...start }).catch((err: Error) => {
      if (!/already in use|exists/i.test(err.message)) throw err
    })
  }
  for (const former of formers) {
    await bus.jsm.consumers.delete(stream, former.name).catch((err: unknown) => {
      if (!isConsumerNotFound(err)) throw err
    })
  }
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
  // stream leader that moved, is noticed within two missed heartbeats and made again. With the
  // client's default (30 s) consumption stopped for up to half a minute after a server was lost.
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

declare module 'fastify' {
  interface FastifyInstance {
    nats: NatsBus
  }
}

/** Decorates `app.nats` and drains it on close (onClose), after the consumers stopped (stopBeforeClose, preClose). */
export const natsPlugin = fp(
  async (app: FastifyInstance, opts: { url: string; name: string; namespace: string; streamReplicas?: number }) => {
    const bus = await connectNats({ ...opts, log: app.log })
    app.decorate('nats', bus)
    app.addHook('onClose', async () => {
      await bus.close()
    })
  },
  { name: 'nats', fastify: '5.x' },
)

export { contextFromHeaders, traceHeaders } from './nats-trace.js'
export { requestTraced, serveRpc, type ServeRpcOptions } from './nats-rpc.js'
