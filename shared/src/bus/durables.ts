import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type ConsumerConfig, type ConsumerInfo } from '@nats-io/jetstream'
import type { NatsBus } from './connection.js'

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
export async function ensureDurable(bus: NatsBus, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }, formerDurables: readonly string[]) {
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
