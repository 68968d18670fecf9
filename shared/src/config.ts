import { hostname } from 'node:os'
import envSchema from 'env-schema'
import { Type, type Static, type TObject } from 'typebox'

/**
 * Validates, coerces and defaults a service's settings from `source` (process.env in server.ts,
 * a plain object in tests) and freezes the result. process.env is never read implicitly.
 */
export function loadConfig<T extends TObject>(schema: T, source: Record<string, string | undefined>): Readonly<Static<T>> {
  const config = envSchema<Static<T>>({ schema: schema as never, data: [source], env: false, dotenv: false })
  return Object.freeze(config)
}

/** What a slow or silent client may hold on each listener (see serverOptions in http.ts). */
export const httpTimeoutProperties = {
  /** A request's headers must have arrived within this (408 otherwise). */
  HTTP_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  /** A request's headers and body must have arrived within this (408 otherwise): a slow body is cut off. */
  HTTP_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  /** A connection that neither sends nor reads anything for this long is closed (a stalled body, an answer left unread). */
  HTTP_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  /** An idle kept-alive connection is closed after this; above the 60 s idle timeout of common load balancers. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 72_000 }),
}

/** Settings every process has. Spread into each service's own schema. */
export const commonConfigProperties = {
  HOST: Type.String({ default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
    { default: 'info' },
  ),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  NATS_URL: Type.String({ default: 'nats://127.0.0.1:4222' }),
  /** Prepended to every NATS subject and stream name: lets tests and tenants share one server. */
  NATS_NAMESPACE: Type.String({ default: '', pattern: '^[a-z0-9_]*$' }),
  /** Replicas of each JetStream stream a service creates: 1 on one server, 3 on a cluster of three (a stream never has more than the cluster has servers). */
  NATS_STREAM_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1 }),
  /**
   * Where the admin listener (readiness, dependency health, metrics; the gateway's operator switches)
   * binds. Its port is each service's ADMIN_PORT. Never reachable by the public.
   */
  ADMIN_HOST: Type.String({ default: '127.0.0.1' }),
  /** How long a dependency ping may take before the dependency counts as DOWN. */
  HEALTH_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 1_000 }),
  /** How long one round of dependency pings answers every probe, scrape and caller. */
  HEALTH_CACHE_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 1_000 }),
  /**
   * This process among its service's replicas (logs, NATS client name, pressure reports): the host
   * name unless set, so that replicas of a container or pod never share one.
   */
  INSTANCE_ID: Type.String({ minLength: 1, default: hostname() }),
  ...httpTimeoutProperties,
}

export const redisConfigProperties = {
  REDIS_URL: Type.String({ default: 'redis://127.0.0.1:6379' }),
  /** Prefix of every Redis key this process writes. */
  REDIS_PREFIX: Type.String({ default: 'tickets:' }),
  /**
   * How long a request waits for Redis where it can do without it (the catalogue cache, the
   * gateway's shared rate-limit counters): past this it goes on without Redis, which is then left
   * alone for a second (createRedisGuard).
   */
  REDIS_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 75 }),
}

export const mysqlConfigProperties = {
  MYSQL_URL: Type.String({ pattern: '^(mysql|mariadb)://' }),
  MYSQL_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  /**
   * How long a request waits for a free connection before it is answered 503 with Retry-After:
   * well under the gateway's deadline for writes, so a saturated or silent database is a fast 503
   * (a request also waits no longer than the gateway's signed deadline, a read's about a second).
   */
  MYSQL_ACQUIRE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 1_000 }),
  /** Requests that may wait for a connection while all are lent out; the next gets 503 at once. 0: twice MYSQL_POOL_SIZE. */
  MYSQL_MAX_WAITING: Type.Integer({ minimum: 0, default: 0 }),
  /** Every statement's bound (MariaDB max_statement_time; the client gives up shortly after); 0: none. */
  MYSQL_STATEMENT_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 3_000 }),
  /** innodb_lock_wait_timeout of the service's sessions: a row lock held longer is a 503, not a 50-second wait. */
  MYSQL_LOCK_WAIT_TIMEOUT_SECONDS: Type.Integer({ minimum: 1, maximum: 50, default: 2 }),
  /**
   * lock_wait_timeout (whole-table and metadata locks: LOCK TABLES, a dump without
   * --single-transaction, DDL) of the service's sessions. 0: a write on a table someone locked is a
   * 503 at once instead of a wait up to the statement bound (drill 3.2.2). Plain reads and writes never
   * wait on each other for these locks, only on DDL and LOCK TABLES.
   */
  MYSQL_TABLE_LOCK_WAIT_SECONDS: Type.Integer({ minimum: 0, maximum: 50, default: 0 }),
  /** A statement at least this slow counts in db_slow_queries_total (manual 3.2.2). */
  DB_SLOW_QUERY_MS: Type.Integer({ minimum: 1, default: 500 }),
  /** How often published outbox rows and old dedup records are deleted (retention.ts); 0 turns it off. */
  RETENTION_INTERVAL_MS: Type.Integer({ minimum: 0, default: 600_000 }),
}

/** How often a service reports its pressure (hold or pay latency, pool waiters, shedding) to the waiting room; 0: never. */
export const pressureConfigProperties = {
  PRESSURE_INTERVAL_MS: Type.Integer({ minimum: 0, default: 1_000 }),
}

export const authConfigProperties = {
  /** HS256 secret shared by the gateway, the queue service and `npm run token`. */
  AUTH_JWT_SECRET: Type.String({ minLength: 32 }),
}

/** The key of the gateway's signature on what it tells the services (contracts/gateway-signature). */
export const internalSecretConfigProperties = {
  /** The same value in the gateway and every service; never one of the other secrets. */
  INTERNAL_SECRET: Type.String({ minLength: 32 }),
}

/** A service's side: the key, and how far its clock may be from the gateway's when it judges a deadline. */
export const gatewayTrustConfigProperties = {
  ...internalSecretConfigProperties,
  INTERNAL_CLOCK_SKEW_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: 1_000 }),
}

/** What a service on MariaDB behind the gateway reads besides its own settings (booking, payment). */
export const mariadbServiceConfigProperties = {
  ...commonConfigProperties,
  ...redisConfigProperties,
  ...gatewayTrustConfigProperties,
  ...pressureConfigProperties,
  ...mysqlConfigProperties,
}

/** The public port and the admin listener's (readiness, dependency health, metrics), on ADMIN_HOST. */
export function listenerPortProperties(port: number, adminPort: number) {
  return {
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: port }),
    ADMIN_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: adminPort }),
  }
}

/** For server.ts: a bad setting stops the process with one clear line instead of a stack trace. */
export function loadConfigOrExit<T extends TObject>(schema: T, source: Record<string, string | undefined>, service: string): Readonly<Static<T>> {
  try {
    return loadConfig(schema, source)
  } catch (err) {
    process.stderr.write(`${service}: the configuration is not valid: ${(err as Error).message.replace(/env\//g, '')}\n`)
    process.exit(2)
  }
}
