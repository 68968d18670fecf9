/**
 * The public API as the gateway sees it: one plain row per route of the public API (`docs/api.md`), with the flags
 * that every gateway concern reads (who may call it, the waiting-room gate, rate-limit class, load
 * shedding class, retries, run-time switches). A path not in this table never reaches a service.
 */
export type ServiceName = 'queue' | 'booking' | 'payment'
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * How long the gateway waits for the service, by kind of route: `read` about a second (and an
 * idempotent read is retried on another instance within it), `write` and `payment` a little past
 * the longest the service itself may take before it answers (its database and RPC deadlines).
 */
export type DeadlineClass = 'read' | 'write' | 'payment'

/** `token`: per client address (manual 3.1.3). `hold`, `payment`: per user. Every route also has the global per-client limit. */
export type RateLimitClass = 'token' | 'hold' | 'payment'

export interface PublicRoute {
  method: HttpMethod
  /** Path template, `:name` for a parameter. */
  path: string
  service: ServiceName
  /** `public`: no user needed. `user`: a verified user JWT. */
  access: 'public' | 'user'
  /** Marked **queue** in docs/api.md: needs an ACTIVE waiting-room token (the queue gate checks it). */
  queue: boolean
  /** Marked **idem** in docs/api.md: needs an Idempotency-Key (the service checks it). */
  idempotent: boolean
  rateLimit?: RateLimitClass
  /** `join` is shed first under pressure, before anything that completes a purchase. */
  shed: 'join' | 'default'
  /** An idempotent read: may be retried once on another instance when one is unreachable. */
  retryable: boolean
  deadline: DeadlineClass
  /** A non-core feature operators can switch off at run time. */
  feature?: 'ranking'
  /** A waiting-room move the gateway may answer itself, on the line's own scripts, without the service. */
  gatewayAnswers?: 'join' | 'poll' | 'leave'
  /** A join that operators can make cost a proof of work, per concert (`queue:challenge`). */
  challenge?: boolean
  /** A join that may carry a presale code (`X-Presale-Code`): such joins have their own limit and go to the service. */
  presale?: boolean
}

const route = (r: Omit<PublicRoute, 'queue' | 'idempotent' | 'shed' | 'retryable' | 'deadline'> & Partial<PublicRoute>): PublicRoute => ({
  queue: false,
  idempotent: false,
  shed: 'default',
  retryable: r.method === 'GET',
  deadline: r.method === 'GET' ? 'read' : 'write',
  ...r,
})

export const PUBLIC_ROUTES: readonly PublicRoute[] = [
  route({ method: 'POST', path: '/api/queue/token', service: 'queue', access: 'user', rateLimit: 'token', shed: 'join', gatewayAnswers: 'join', challenge: true, presale: true }),
  route({ method: 'GET', path: '/api/queue/token', service: 'queue', access: 'user', gatewayAnswers: 'poll' }),
  route({ method: 'DELETE', path: '/api/queue/token', service: 'queue', access: 'user', gatewayAnswers: 'leave' }),
  route({ method: 'GET', path: '/api/queue/draws/:concertId', service: 'queue', access: 'public' }),
  route({ method: 'GET', path: '/api/queue/draws/:concertId/entries', service: 'queue', access: 'public' }),
  route({ method: 'GET', path: '/api/queue/draws/:concertId/entries/:entryId', service: 'queue', access: 'public' }),

  route({ method: 'GET', path: '/api/concerts', service: 'booking', access: 'public' }),
  route({ method: 'GET', path: '/api/concerts/ranking', service: 'booking', access: 'public', feature: 'ranking' }),
  route({ method: 'GET', path: '/api/concerts/:concertId/schedules', service: 'booking', access: 'public' }),
  route({ method: 'GET', path: '/api/concerts/:concertId/schedules/:scheduleId/seats', service: 'booking', access: 'user', queue: true }),

  route({ method: 'POST', path: '/api/reservations', service: 'booking', access: 'user', queue: true, rateLimit: 'hold' }),
  route({ method: 'GET', path: '/api/reservations/:reservationId', service: 'booking', access: 'user' }),
  route({ method: 'DELETE', path: '/api/reservations/:reservationId', service: 'booking', access: 'user' }),

  route({ method: 'GET', path: '/api/points', service: 'payment', access: 'user' }),
  route({ method: 'POST', path: '/api/points/charge', service: 'payment', access: 'user', idempotent: true }),
  route({ method: 'POST', path: '/api/payments', service: 'payment', access: 'user', queue: true, idempotent: true, rateLimit: 'payment', deadline: 'payment' }),
  route({ method: 'GET', path: '/api/payments/:paymentId', service: 'payment', access: 'user' }),
]

/** The path prefixes proxied to each service (one @fastify/http-proxy registration each). */
export function prefixesOf(routes: readonly PublicRoute[]): Map<string, ServiceName> {
  const prefixes = new Map<string, ServiceName>()
  for (const r of routes) prefixes.set(r.path.split('/').slice(0, 3).join('/'), r.service)
  return prefixes
}

/** `params`: the path's parameters as sent (still percent-encoded), by name; empty for a static path. */
export type RouteMatch = { kind: 'route'; route: PublicRoute; params: Readonly<Record<string, string>> } | { kind: 'method-not-allowed'; allow: HttpMethod[] } | { kind: 'none' }

interface Compiled {
  route: PublicRoute
  pattern: RegExp
  names: string[]
  static: boolean
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({})

/** Compiles the table once; static paths win over parameters (`/ranking` before `/:concertId`). */
export function createRouteMatcher(routes: readonly PublicRoute[]) {
  const compiled: Compiled[] = routes
    .map((r) => ({
      route: r,
      static: !r.path.includes(':'),
      names: [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!),
      pattern: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '([^/]+)')}/?$`),
    }))
    .sort((a, b) => Number(b.static) - Number(a.static))

  const notAllowed = (candidates: Compiled[]): RouteMatch => ({ kind: 'method-not-allowed', allow: [...new Set(candidates.map((c) => c.route.method))] })
  function decide(method: string, candidates: Compiled[], path?: string): RouteMatch {
    const hit = candidates.find((c) => c.route.method === method || (method === 'HEAD' && c.route.method === 'GET'))
    if (!hit) return notAllowed(candidates)
    if (path === undefined || hit.names.length === 0) return { kind: 'route', route: hit.route, params: NO_PARAMS }
    const values = hit.pattern.exec(path)!
    return { kind: 'route', route: hit.route, params: Object.fromEntries(hit.names.map((name, i) => [name, values[i + 1]!])) }
  }

  // A static path (with or without its trailing slash) is answered from a map, its results made
  // once: the busiest routes (joining, polling) cost no regular expression and no allocation.
  const byStaticPath = new Map<string, { byMethod: Map<string, RouteMatch>; other: RouteMatch }>()
  for (const c of compiled.filter((x) => x.static)) {
    if (byStaticPath.has(c.route.path)) continue
    const same = compiled.filter((x) => x.static && x.route.path === c.route.path)
    const byMethod = new Map<string, RouteMatch>()
    for (const m of [...same.map((x) => x.route.method), 'HEAD']) byMethod.set(m, decide(m, same))
    const entry = { byMethod, other: notAllowed(same) }
    byStaticPath.set(c.route.path, entry)
    byStaticPath.set(`${c.route.path}/`, entry)
  }
  const parametric = compiled.filter((c) => !c.static)

  return function match(method: string, url: string): RouteMatch {
    const path = url.split('?', 1)[0] ?? ''
    const known = byStaticPath.get(path)
    if (known) return known.byMethod.get(method) ?? known.other
    const byPath = parametric.filter((c) => c.pattern.test(path))
    if (byPath.length === 0) return { kind: 'none' }
    return decide(method, byPath, path)
  }
}

/** OpenAPI spelling of a path template: `/a/:id` → `/a/{id}`. */
export function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z]+)/g, '{$1}')
}
