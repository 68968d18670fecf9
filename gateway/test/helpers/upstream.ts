import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'

export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
}

/** A real HTTP upstream on an ephemeral port that records what reached it and echoes it back. */
export async function anUpstream(name: string): Promise<{ url: string; app: FastifyInstance; received: RecordedRequest[] }> {
  const received: RecordedRequest[] = []
  const app = Fastify()
  app.all('/*', async (request) => {
    received.push({ method: request.method, url: request.url, headers: request.headers })
    return { upstream: name, url: request.url, userId: request.headers['x-user-id'] ?? null }
  })
  app.get('/health/ready', async () => ({ status: 'UP' }))
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  afterAll(() => app.close())
  return { url: address, app, received }
}
