// The baseline hop for join-throughput.mjs: `upstream <port>` answers every request with 201 {};
// `proxy <port> <upstreamUrl>` is one @fastify/http-proxy hop to it, nothing else.
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const [role, port, upstream] = process.argv.slice(2)
const app = Fastify({ logger: false })
if (role === 'upstream') {
  app.all('/*', async (_request, reply) => reply.code(201).send({}))
} else {
  await app.register(proxy, { upstream, prefix: '/api/queue', rewritePrefix: '/api/queue' })
}
await app.listen({ host: '127.0.0.1', port: Number(port) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
