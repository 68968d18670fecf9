import type { PublicRoute, ServiceName } from './route-table.js'
import { openapiPath } from './route-table.js'

type Json = Record<string, unknown>
export interface OpenApiDoc {
  openapi?: string
  info?: Json
  paths?: Record<string, Record<string, Json>>
  components?: { schemas?: Record<string, unknown>; [k: string]: unknown }
  [k: string]: unknown
}

const problemContent = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }
const problem = (description: string, headers?: Json) => ({ description, ...(headers ? { headers } : {}), content: problemContent })
const header = (description: string) => ({ description, schema: { type: 'integer' } })
const CHALLENGE_REFUSED =
  'The join challenge is on for this concert and no proof (QUEUE_CHALLENGE_REQUIRED) or a wrong one (QUEUE_CHALLENGE_FAILED) came with the join. ' +
  'The `challenge` member says what to solve: find a counter such that SHA-256 of `nonce:counter` starts with `difficulty` zero bits, ' +
  'then send the join again with `X-Queue-Proof: nonce:counter` before `expiresAt`.'

/** What the gateway itself adds to every document: who may call, and the answers only it gives. */
export const GATEWAY_COMPONENTS = {
  securitySchemes: {
    userToken: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'User JWT: HS256, or RS256/ES256 through the configured JWKS; `sub` is the user id, `exp` required.',
    },
    queueToken: { type: 'apiKey', in: 'header', name: 'X-Queue-Token', description: 'An ACTIVE waiting-room token for the concert (routes marked queue).' },
  },
  responses: {
    Unauthorized: problem('No valid user token', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
    PayloadTooLarge: problem('Body larger than the gateway accepts'),
    TooManyRequests: problem('Rate limited', {
      'Retry-After': header('Seconds to wait'),
      'RateLimit-Limit': header('Requests allowed in the window'),
      'RateLimit-Remaining': header('Requests left in the window'),
      'RateLimit-Reset': header('Seconds until the window resets'),
    }),
    Unavailable: problem('Overloaded (shed), switched off, or the service is unreachable', { 'Retry-After': header('Seconds to wait') }),
    GatewayTimeout: problem('The service did not answer in time'),
    ChallengeRefused: problem(CHALLENGE_REFUSED),
    JoinRefused: problem(
      `${CHALLENGE_REFUSED} Or the presale code in X-Presale-Code is not one of this concert (QUEUE_PRESALE_CODE_WRONG) ` +
        'or is outside its window (QUEUE_PRESALE_CODE_EXPIRED, with `validFrom` and `validUntil`).',
    ),
  },
}

const ref = (name: keyof typeof GATEWAY_COMPONENTS.responses) => ({ $ref: `#/components/responses/${name}` })

/** Service-local schema names (`def-N`) get the service's name so two services cannot collide. */
function namespaced(service: ServiceName, doc: OpenApiDoc): OpenApiDoc {
  const text = JSON.stringify(doc).replaceAll('"#/components/schemas/def-', `"#/components/schemas/${service}-def-`)
  const out = JSON.parse(text) as OpenApiDoc
  const schemas = out.components?.schemas ?? {}
  out.components = {
    ...out.components,
    schemas: Object.fromEntries(Object.entries(schemas).map(([k, v]) => [k.startsWith('def-') ? `${service}-${k}` : k, v])),
  }
  return out
}

function findOperation(doc: OpenApiDoc, route: PublicRoute): Json | undefined {
  const path = openapiPath(route.path)
  for (const candidate of [path, `${path}/`]) {
    const op = doc.paths?.[candidate]?.[route.method.toLowerCase()]
    if (op) return op
  }
  return undefined
}

function hasParameter(op: Json, name: string): boolean {
  return ((op.parameters as Json[] | undefined) ?? []).some((p) => p.in === 'header' && String(p.name).toLowerCase() === name.toLowerCase())
}

function decorate(op: Json, route: PublicRoute): Json {
  const out: Json = structuredClone(op)
  const responses = { ...(out.responses as Json | undefined) }
  const parameters = [...((out.parameters as Json[] | undefined) ?? [])]
  const add = (status: string, response: Json) => {
    if (!(status in responses)) responses[status] = response
  }
  if (route.access === 'user') add('401', ref('Unauthorized'))
  if (route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH') add('413', ref('PayloadTooLarge'))
  add('429', ref('TooManyRequests'))
  add('503', ref('Unavailable'))
  add('504', ref('GatewayTimeout'))
  if (route.queue && !hasParameter(out, 'x-queue-token')) {
    parameters.push({ in: 'header', name: 'X-Queue-Token', required: true, schema: { type: 'string' }, description: 'ACTIVE waiting-room token' })
  }
  if (route.challenge) {
    // The service's own 403 (a presale code's refusal) is described with the gateway's.
    responses['403'] = ref(route.presale ? 'JoinRefused' : 'ChallengeRefused')
    if (!hasParameter(out, 'x-queue-proof')) {
      parameters.push({
        in: 'header',
        name: 'X-Queue-Proof',
        required: false,
        schema: { type: 'string' },
        description: 'nonce:counter, when the join challenge is on for the concert',
      })
    }
  }
  if (route.idempotent && !hasParameter(out, 'idempotency-key')) {
    parameters.push({ in: 'header', name: 'Idempotency-Key', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 } })
  }
  const notes = [
    route.rateLimit === 'token' && 'Rate limited per client address (stricter limit, changeable by operators).',
    (route.rateLimit === 'hold' || route.rateLimit === 'payment') && 'Rate limited per user.',
    route.shed === 'join' && 'Shed first under overload (503 with Retry-After).',
    route.feature && 'Non-core: operators can switch it off (503 COMMON_FEATURE_DISABLED).',
    route.challenge && 'Operators can make it need a proof of work per concert (403 with a challenge to solve).',
    route.presale &&
      'X-Presale-Code joins the presale line (or, for a bypass code, admits at once). Refusals: 403 QUEUE_PRESALE_CODE_WRONG, 403 QUEUE_PRESALE_CODE_EXPIRED (with validFrom, validUntil), 409 QUEUE_PRESALE_CODE_SPENT, 409 QUEUE_PRESALE_CODE_OTHER; 429 past the limit on joins with a code, per address and per user.',
  ].filter(Boolean)
  if (notes.length) out.description = [out.description, ...notes].filter(Boolean).join('\n\n')
  out.security = route.access === 'user' ? [route.queue ? { userToken: [], queueToken: [] } : { userToken: [] }] : []
  if (parameters.length) out.parameters = parameters
  out.responses = responses
  return out
}

/**
 * One document for the whole public API: the operations of the route table, taken from the
 * services' own documents (generated from their route schemas), plus what the gateway adds.
 * Operations a service has but the table does not are not public and are left out.
 */
export function mergeOpenApi(input: { base: OpenApiDoc; routes: readonly PublicRoute[]; services: Partial<Record<ServiceName, OpenApiDoc>>; problemSchema: unknown }): OpenApiDoc {
  const paths: Record<string, Record<string, Json>> = {}
  const schemas: Record<string, unknown> = { Problem: input.problemSchema }
  const docs = Object.fromEntries(Object.entries(input.services).map(([s, d]) => [s, namespaced(s as ServiceName, d!)])) as Partial<Record<ServiceName, OpenApiDoc>>
  for (const doc of Object.values(docs)) {
    for (const [name, schema] of Object.entries(doc?.components?.schemas ?? {})) if (!(name in schemas)) schemas[name] = schema
  }
  for (const route of input.routes) {
    const doc = docs[route.service]
    const op = doc && findOperation(doc, route)
    if (!op) continue
    const path = openapiPath(route.path)
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: decorate(op, route) }
  }
  const missing = (['queue', 'booking', 'payment'] as const).filter((s) => input.routes.some((r) => r.service === s) && !input.services[s])
  return {
    ...input.base,
    openapi: '3.1.0',
    ...(missing.length ? { 'x-unavailable-services': missing } : {}),
    paths,
    components: { ...input.base.components, ...GATEWAY_COMPONENTS, schemas },
  }
}
