import { AjvCompiler } from '@fastify/ajv-compiler'
import type { FastifyServerOptions } from 'fastify'

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>
type BuildValidator = NonNullable<NonNullable<SchemaController['compilersFactory']>['buildValidator']>

/**
 * A body is checked as sent: an amount of `"100"`, `true` or `[5]` and an id of `[id]` are refused,
 * never coerced (Ajv's coerceTypes). Path, query and headers are text on the wire, so their numbers
 * and lists are still read from it. Both validators come from Fastify's own compiler, with the same
 * shared schemas.
 */
export function strictBodyValidation(): SchemaController {
  const pool = AjvCompiler()
  const buildValidator: BuildValidator = (externalSchemas, ajvOptions) => {
    const options = ajvOptions as { customOptions?: Record<string, unknown> }
    const forText = pool(externalSchemas, options as Parameters<typeof pool>[1])
    const forBody = pool(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } } as Parameters<typeof pool>[1])
    return (route) => (route.httpPart === 'body' ? forBody : forText)(route)
  }
  return { compilersFactory: { buildValidator } }
}
