import { RPC } from '@tickets/contracts/events'
import type { FastifyInstance } from 'fastify'

export async function rpc(app: FastifyInstance, step: keyof typeof RPC, body: unknown) {
  const msg = await app.nats.nc.request(app.nats.names.subject(RPC[step]), typeof body === 'string' ? body : JSON.stringify(body), { timeout: 5_000 })
  return msg.json<Record<string, unknown> & { ok?: boolean; code?: string; reservation?: Record<string, unknown> }>()
}
