import { SpanKind } from '@opentelemetry/api'
import { nanos } from '@nats-io/transport-node'
import type { Envelope, StreamName, SubjectName } from '@tickets/contracts/events'
import type { NatsBus } from './connection.js'
import { inClientSpan, traceHeaders } from './trace-headers.js'

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
