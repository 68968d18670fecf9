import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { ProblemSchema } from '@tickets/shared/http'
import { OPENAPI_PATH } from '@tickets/shared/openapi'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { mergeOpenApi, type OpenApiDoc } from '../domain/openapi-merge.js'
import type { UpstreamPool } from '../domain/upstream-pool.js'
import type { PublicRoute, ServiceName } from '../domain/route-table.js'

export interface DocsOptions {
  routes: readonly PublicRoute[]
  pools: Record<ServiceName, UpstreamPool>
  cacheMs: number
  timeoutMs: number
}

const BASE: OpenApiDoc = {
  info: {
    title: 'Tickets public API',
    version: '0.1.0',
    description:
      'Everything a client uses, through the gateway. Every error is application/problem+json (RFC 9457) with a `code` and a `traceId`. ' +
      "Generated from the services' route schemas and merged by the gateway.",
  },
}

/**
 * GET /docs (Swagger UI) and /docs/json: the services' own documents (served on a path the gateway
 * never proxies) merged into one, kept for `cacheMs`. A service that does not answer is left out
 * of that copy and asked again a few seconds later.
 */
export default fp(
  async (app: FastifyInstance, opts: DocsOptions) => {
    const { $id: _id, ...problemSchema } = JSON.parse(JSON.stringify(ProblemSchema)) as Record<string, unknown>
    let merged: OpenApiDoc | undefined
    let expiresAt = 0
    let inflight: Promise<void> | undefined

    async function fetchDoc(service: ServiceName): Promise<OpenApiDoc | undefined> {
      const url = `${opts.pools[service].pick() ?? opts.pools[service].urls[0]!}${OPENAPI_PATH}`
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs) })
        if (!res.ok) throw new Error(`${url} answered ${res.status}`)
        const doc = (await res.json()) as OpenApiDoc
        if (typeof doc.openapi !== 'string' || typeof doc.paths !== 'object') throw new Error(`${url} is not an OpenAPI document`)
        return doc
      } catch (err) {
        app.log.warn({ err, service }, 'OpenAPI document of a service unavailable')
        return undefined
      }
    }

    async function refresh() {
      const services = [...new Set(opts.routes.map((r) => r.service))]
      const docs = await Promise.all(services.map(async (s) => [s, await fetchDoc(s)] as const))
      const found = Object.fromEntries(docs.filter(([, d]) => d !== undefined))
      merged = mergeOpenApi({ base: BASE, routes: opts.routes, services: found, problemSchema })
      expiresAt = Date.now() + (docs.every(([, d]) => d) ? opts.cacheMs : Math.min(opts.cacheMs, 3_000))
    }

    // The gateway's own routes are proxies and operations: nothing of them belongs in the public document.
    await app.register(swagger, { openapi: { openapi: '3.1.0', info: BASE.info as { title: string; version: string } }, hideUntagged: true })
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // The gateway sends no CSP (JSON API); the UI's own pages get one that lets its scripts run.
      staticCSP: true,
      uiConfig: { docExpansion: 'list', deepLinking: true },
      uiHooks: {
        preHandler: async (request) => {
          if (!/^\/docs\/(json|yaml)/.test(request.url) || Date.now() < expiresAt) return
          inflight ??= refresh().finally(() => (inflight = undefined))
          await inflight
        },
      },
      transformSpecification: (spec) => (merged ?? spec) as Record<string, unknown>,
      transformSpecificationClone: false,
    })
  },
  { name: 'docs' },
)
