import {
  authConfigProperties,
  internalSecretConfigProperties,
  commonConfigProperties,
  listenerPortProperties,
  redisConfigProperties,
  pressureConfigProperties,
} from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

const UrlList = (defaults: string) => Type.String({ default: defaults, pattern: '^https?://[^,\\s]+(,https?://[^,\\s]+)*$' })
const Count = (defaults: number) => Type.Integer({ minimum: 1, default: defaults })

export const ConfigSchema = Type.Object({
  ...commonConfigProperties,
  ...redisConfigProperties,
  ...pressureConfigProperties,
  ...authConfigProperties,
  ...internalSecretConfigProperties,
  /** The admin listener also serves the operator switches. */
  ...listenerPortProperties(8080, 9080),
  /** Comma-separated instances of each service; requests are balanced across them. */
  QUEUE_URLS: UrlList('http://127.0.0.1:3001'),
  BOOKING_URLS: UrlList('http://127.0.0.1:3002'),
  PAYMENT_URLS: UrlList('http://127.0.0.1:3003'),
  /** How often the fans seen here (ACTIVE tokens, polls answered here) are reported to the waiting room (its idle timeouts). */
  ACTIVITY_FLUSH_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** How often the summaries of the lines fans poll are read from Redis (one pipeline for every such concert). */
  LINE_SUMMARY_REFRESH_MS: Type.Integer({ minimum: 50, maximum: 5_000, default: 250 }),
  /**
   * A line summary no admission step changed for this long is not used: joins, polls and leaves go to
   * the queue service. Above ADMISSION_TICK_MS of the queue service; 0 sends every one to it.
   */
  LINE_SUMMARY_MAX_AGE_MS: Type.Integer({ minimum: 0, default: 3_000 }),
  /** How often this gateway reports how many requests a second it measured it can answer (the queue spreads returning fans by it). */
  CAPACITY_REPORT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** How long a join, poll or leave answered here may wait for the line's script before a 503 (as the queue service's). */
  QUEUE_REDIS_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 150 }),
  /** How long a read (GET) may take, a retry on another instance included; past it, 504. */
  UPSTREAM_READ_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 1_000 }),
  /**
   * How long a write (hold, cancel, charge, join) may take: above the services' own bound (a free
   * connection within MYSQL_ACQUIRE_TIMEOUT_MS, then statements within MYSQL_STATEMENT_TIMEOUT_MS),
   * so the service's own 503 normally comes first. Past it, 504: the outcome is unknown.
   */
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5_000 }),
  /** How long a payment may take: payment's two calls to booking (BOOKING_RPC_TIMEOUT_MS each) and its transaction. */
  UPSTREAM_PAYMENT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 8_000 }),
  /**
   * How often every instance is asked whether it answers (GET /health, no dependency), and how long
   * it has to answer: one that does not is ejected until it does. A hung instance is out within
   * about the sum (1 s); a stall shorter than the timeout ejects nothing.
   */
  UPSTREAM_PROBE_INTERVAL_MS: Type.Integer({ minimum: 50, default: 250 }),
  UPSTREAM_PROBE_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 750 }),
  /**
   * How long a set of connections to the services takes new requests before fresh ones replace it;
   * 0: for ever. A Service balances connections, not requests: this bounds how long a pod the HPA
   * added waits for its share of the traffic.
   */
  UPSTREAM_CONNECTION_TTL_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  /** Retry-After on 503s for an unreachable service. */
  UPSTREAM_RETRY_AFTER_SECONDS: Type.Integer({ minimum: 1, default: 2 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1_024, default: 16 * 1024 }),

  /** RS256/ES256 user tokens are verified against this key set when set (HS256 with AUTH_JWT_SECRET always works). */
  AUTH_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  AUTH_JWT_ISSUER: Type.Optional(Type.String({ minLength: 1 })),
  AUTH_JWT_AUDIENCE: Type.Optional(Type.String({ minLength: 1 })),
  /** A user token whose exp is further ahead than this is refused: every token must run out. */
  AUTH_JWT_MAX_LIFETIME_SECONDS: Type.Integer({ minimum: 60, default: 86_400 }),

  /** Addresses or CIDRs (comma-separated) whose X-Forwarded-For is believed; none by default. */
  TRUSTED_PROXIES: Type.String({ default: '', pattern: '^[0-9A-Fa-f:.,/\\s]*$' }),
  /**
   * Open connections one client address may hold (trusted proxies excepted); 0: no bound. Room for a
   * venue's or a carrier's many fans behind one address, far below what exhausts the gateway's sockets.
   */
  MAX_CONNECTIONS_PER_ADDRESS: Type.Integer({ minimum: 0, default: 256 }),
  RATE_LIMIT_GLOBAL_MAX: Count(200),
  RATE_LIMIT_GLOBAL_WINDOW_MS: Type.Integer({ minimum: 100, default: 1_000 }),
  /** POST /api/queue/token per client address and second (manual 3.1.3: nginx limit_req 10r/s). Operators can change it at run time. */
  RATE_LIMIT_TOKEN_PER_SECOND: Count(10),
  /**
   * The token route's and the global limit's counts live in each instance and are shared through
   * Redis this often: a join or a poll costs no Redis call for its limit, and a client spread over N
   * instances gets past a limit by at most what N - 1 instances let through in one interval.
   */
  RATE_LIMIT_TOKEN_SYNC_MS: Type.Integer({ minimum: 1, maximum: 1_000, default: 20 }),
  RATE_LIMIT_HOLD_MAX: Count(10),
  RATE_LIMIT_PAYMENT_MAX: Count(5),
  RATE_LIMIT_USER_WINDOW_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** Joins carrying a presale code (right or wrong) per client address, and per user, in RATE_LIMIT_PRESALE_WINDOW_MS: the bound on guessing codes. */
  RATE_LIMIT_PRESALE_PER_ADDRESS: Count(30),
  RATE_LIMIT_PRESALE_PER_USER: Count(10),
  RATE_LIMIT_PRESALE_WINDOW_MS: Type.Integer({ minimum: 1_000, default: 600_000 }),

  /**
   * Load shedding: past these, requests get 503 + Retry-After at once. Joins to the line are shed first.
   * By event-loop delay, the queueing that latency is made of. Utilisation thresholds are there but
   * off by default (1): with the gateway's earlier per-request cost, shedding joins at 0.9 was what
   * kept p95 under 250 ms; once that cost halved, utilisation passed 0.97 at ticket-open's peak while
   * every step's p95 was under 50 ms, and shedding then refused fans for nothing (docs/benchmarks.md).
   */
  SHED_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 1, default: 200 }),
  SHED_MAX_EVENT_LOOP_UTILIZATION: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 }),
  SHED_JOIN_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 1, default: 100 }),
  SHED_JOIN_MAX_EVENT_LOOP_UTILIZATION: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1 }),
  SHED_SAMPLE_INTERVAL_MS: Type.Integer({ minimum: 10, default: 500 }),
  SHED_RETRY_AFTER_SECONDS: Type.Integer({ minimum: 1, default: 2 }),

  /** Operator switches live in Redis; each instance re-reads them at most this often. */
  SWITCH_CACHE_MS: Type.Integer({ minimum: 50, maximum: 1_000, default: 500 }),
  /** Enables the operator switches on the admin listener (never the public port); each request must carry it. */
  OPERATOR_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  /** The file the services append their spans to (as for the telemetry): the operator console reads its end. */
  TRACES_FILE: Type.Optional(Type.String({ minLength: 1 })),
  /** How much of the end of TRACES_FILE the console reads for recent traces and a search by trace id. */
  CONSOLE_TRACES_TAIL_BYTES: Type.Integer({ minimum: 65_536, default: 2 * 1024 * 1024 }),
  /** A trace longer than this is listed as slow in the console. */
  CONSOLE_SLOW_TRACE_MS: Type.Integer({ minimum: 1, default: 500 }),
  /** How often the console refreshes; the overview it reads is shared for half of it, the traces file read at most once per it. */
  CONSOLE_REFRESH_MS: Type.Integer({ minimum: 500, default: 2_000 }),
  /** Alertmanager's base URL: the console lists the alerts firing. Unset: the console says there is none to ask. */
  ALERTMANAGER_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Prometheus' base URL: the console's polls per second per concert (queue_polls_total). */
  PROMETHEUS_URL: Type.Optional(Type.String({ pattern: '^https?://' })),

  /**
   * The development sign-in (`POST /dev/sign-in`: any user id gets a user token). `npm start` turns
   * it on; nothing else should: with it, anyone who reaches the gateway can speak as any user.
   */
  DEV_SIGN_IN: Type.Boolean({ default: false }),
  /** How long the merged OpenAPI document is kept before the services are asked again. */
  DOCS_CACHE_MS: Type.Integer({ minimum: 0, default: 30_000 }),
})
export type Config = Static<typeof ConfigSchema>

export function urlList(value: string): string[] {
  return value
    .split(',')
    .map((u) => u.trim().replace(/\/$/, ''))
    .filter(Boolean)
}

export function trustedProxies(value: string): string[] {
  return value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}
