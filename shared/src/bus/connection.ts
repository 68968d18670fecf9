import { connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import type { FastifyBaseLogger } from 'fastify'
import { natsNames, type NatsNames } from '@tickets/contracts/events'

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
