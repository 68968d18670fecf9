import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '@tickets/contracts/errors'

/**
 * How deep a request body's JSON may nest. The API's bodies are flat objects; the bound is far above
 * them and far below what would exhaust the stack of anything that walks the parsed value
 * (JSON.stringify at the gateway, Ajv, a request hash).
 */
export const JSON_MAX_DEPTH = 32

const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
const CLOSE_OBJECT = 0x7d
const CLOSE_ARRAY = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * Whether `text` opens more than `max` arrays or objects inside one another, found in one pass with
 * no recursion, before JSON.parse builds anything. Brackets inside strings do not count. Malformed
 * JSON is left for JSON.parse to refuse.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) inString = true
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > max) return true
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--
  }
  return false
}

/**
 * Fastify's JSON parser, except that a body nested too deep is refused before it is parsed, and an
 * empty body is no body instead of 400 COMMON_BAD_JSON:
 * common clients (k6 among them) send `Content-Type: application/json` on a DELETE without one,
 * and the gateway forwards that header to the service. A route whose schema requires a body still
 * refuses the request (400 COMMON_VALIDATION); malformed JSON is still 400 COMMON_BAD_JSON.
 */
export const emptyJsonBody = fp(
  async (app: FastifyInstance) => {
    const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig
    const parseJson = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning)
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body: string, done) => {
      if (body.length === 0) done(null, undefined)
      else if (nestsDeeperThan(body, JSON_MAX_DEPTH)) done(new AppError('COMMON_BAD_JSON', `Request body nests deeper than ${JSON_MAX_DEPTH} levels`), undefined)
      else parseJson(request, body, done)
    })
  },
  { name: 'empty-json-body', fastify: '5.x' },
)
