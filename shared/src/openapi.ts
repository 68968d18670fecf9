import swagger from '@fastify/swagger'
import type { FastifyInstance, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Where each service serves the OpenAPI document of its own routes. Not under /api, so the
 * gateway never proxies it: the gateway fetches it from every service and publishes one merged
 * document at GET /docs.
 */
export const OPENAPI_PATH = '/internal/openapi.json'

/**
 * Collects the service's route schemas (TypeBox) into an OpenAPI 3.1 document. Register it before
 * the routes. Shared schemas keep their `$id` as their name (`#/components/schemas/Problem`), so
 * the gateway can merge the documents of several services without renaming.
 */
export const openapiPlugin = fp(
  async (app: FastifyInstance, opts: { service: string; version?: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: opts.service, version: opts.version ?? '0.1.0' },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    })
    app.get(OPENAPI_PATH, { schema: { hide: true } as FastifySchema, config: { rateLimit: false, otel: false } }, async () => app.swagger())
  },
  { name: 'openapi', fastify: '5.x' },
)
