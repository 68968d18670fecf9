import Fastify, { type FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge } from 'prom-client'
import { createDependencyHealth, OPERATIONAL_ROUTE, type DependencyHealthOptions } from './health.js'
import { problemDetails, serverOptions, type HttpTimeouts } from './http.js'
import './metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The admin listener: its own Fastify instance for its own port (ADMIN_PORT), never the public
     * one. It serves readiness, the dependencies' health and metrics; server.ts makes it listen.
     */
    admin: FastifyInstance
  }
}

export interface AdminOptions {
  service: string
  /** The listener's own server options (nested: `logLevel` at the top would be Fastify's register option). */
  server: { logLevel: string; instance?: string | undefined; timeouts?: HttpTimeouts }
  health: DependencyHealthOptions
}

export type Readiness = 'UP' | 'STARTING' | 'DRAINING'

/**
 * Builds the app's admin listener (`app.admin`), closed once the app has drained. Its routes:
 * - `/health`: the process answers;
 * - `/health/ready`: 200 while the app's public port takes requests, 503 while it starts or drains.
 *   A dependency's outage does not make it 503: the app still answers, with fast 503s where it needs
 *   the dependency, and an orchestrator that took every replica out would turn those into refused
 *   connections;
 * - `/health/dependencies`: each dependency pinged (at most once per HEALTH_CACHE_MS), 503 if any is DOWN;
 * - `/metrics`: the app's registry, with `dependency_up` from the same pings.
 * Nothing here may be reached by the public: each call can cost a ping of every dependency.
 */
export const adminListener = fp(
  async (app: FastifyInstance, opts: AdminOptions) => {
    const admin = Fastify(serverOptions({ service: opts.service, bodyLimit: 1_024, ...opts.server }))
    await admin.register(problemDetails)
    const health = createDependencyHealth(opts.health)
    let draining = false
    app.addHook('preClose', (done) => {
      draining = true
      done()
    })
    const readiness = (): Readiness => (draining ? 'DRAINING' : app.server.listening ? 'UP' : 'STARTING')

    new Gauge({
      name: 'dependency_up',
      help: 'Whether a dependency answered its ping (1) or not (0); a busy one keeps its last value',
      labelNames: ['dependency'],
      registers: [app.metrics],
      async collect() {
        const result = await health.read()
        for (const [name, s] of Object.entries(result.dependencies)) if (s.status !== 'BUSY') this.set({ dependency: name }, s.status === 'UP' ? 1 : 0)
      },
    })

    admin.get('/health', OPERATIONAL_ROUTE, async () => ({ status: 'UP' }))
    admin.get('/health/ready', OPERATIONAL_ROUTE, async (_request, reply) => {
      const status = readiness()
      return reply.code(status === 'UP' ? 200 : 503).send({ status })
    })
    admin.get('/health/dependencies', OPERATIONAL_ROUTE, async (_request, reply) => {
      const result = await health.read()
      return reply.code(result.status === 'UP' ? 200 : 503).send(result)
    })
    admin.get('/metrics', OPERATIONAL_ROUTE, async (_request, reply) => reply.type(app.metrics.contentType).send(await app.metrics.metrics()))

    app.decorate('admin', admin)
    // After the drain (onClose runs once the public server stopped): readiness says DRAINING meanwhile.
    app.addHook('onClose', async () => admin.close())
  },
  { name: 'admin-listener', fastify: '5.x', dependencies: ['metrics'] },
)
