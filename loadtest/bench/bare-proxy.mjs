// The baseline hop for join-throughput.mjs: `upstream <port>` answers every request with 201 {};
// `proxy <port> <upstreamUrl> [processes]` is one @fastify/http-proxy hop to it, nothing else, in as
// many processes sharing the port as npm start runs gateways (Node's cluster module, as npm start).
import proxy from '@fastify/http-proxy'
import cluster from 'node:cluster'
import Fastify from 'fastify'

const [role, port, upstream, processes = '1'] = process.argv.slice(2)
if (cluster.isPrimary && Number(processes) > 1) {
  for (let i = 0; i < Number(processes); i++) cluster.fork()
  // The primary outlives its workers: a worker that closes its server tells the primary, and a
  // primary gone before that ends the worker with EPIPE.
  process.on('SIGTERM', () => {
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
    })
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
  })
  await new Promise(() => {})
}
const app = Fastify({ logger: false })
if (role === 'upstream') {
  app.all('/*', async (_request, reply) => reply.code(201).send({}))
} else {
  await app.register(proxy, { upstream, prefix: '/api/queue', rewritePrefix: '/api/queue' })
}
await app.listen({ host: '127.0.0.1', port: Number(port) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
