import { loadConfig } from '@tickets/shared/config'
import { isolation, TEST_INTERNAL_SECRET, fromGateway } from '@tickets/testkit'
import type { FastifyInstance } from 'fastify'
import { afterAll } from 'vitest'
import { buildApp, type BuildOptions } from '../../src/app.js'
import { ConfigSchema } from '../../src/config.js'
import type { Clock } from '../../src/domain/ports.js'

export const TEST_SECRET = 'queue-test-secret-that-is-long-enough!!'

export type Isolation = ReturnType<typeof isolation>

export function testConfig(iso: Isolation, overrides: Record<string, string> = {}) {
  return loadConfig(ConfigSchema, {
    INTERNAL_SECRET: TEST_INTERNAL_SECRET,
    AUTH_JWT_SECRET: TEST_SECRET,
    REDIS_PREFIX: iso.redisPrefix,
    NATS_NAMESPACE: iso.natsNamespace,
    LOG_LEVEL: 'silent',
    ...overrides,
  })
}

/** An app on this file's Redis prefix and NATS namespace; several calls with one `iso` share one line. */
export async function buildTestApp(iso: Isolation, overrides: Record<string, string> = {}, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(iso, overrides), { defaultMetrics: false, admissionLoop: false, ...options })
  afterAll(() => app.close())
  return app
}

export function manualClock(start = Date.UTC(2026, 0, 10, 12, 0, 0)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start
  return {
    now: () => now,
    advance: (ms) => {
      now += ms
    },
    set: (ms) => {
      now = ms
    },
  }
}

let concertCounter = 0
export function aConcertId(): string {
  concertCounter += 1
  return `concert-${process.pid}-${concertCounter}-${Math.random().toString(36).slice(2, 8)}`
}

export function join(app: FastifyInstance, userId: string, concertId: string) {
  return app.inject(fromGateway({ method: 'POST', url: '/api/queue/token', headers: { 'x-user-id': userId }, payload: { concertId } }))
}

export function poll(app: FastifyInstance, userId: string, token: string) {
  return app.inject(fromGateway({ method: 'GET', url: '/api/queue/token', headers: { 'x-user-id': userId, 'x-queue-token': token } }))
}

export function leave(app: FastifyInstance, userId: string, token: string) {
  return app.inject(fromGateway({ method: 'DELETE', url: '/api/queue/token', headers: { 'x-user-id': userId, 'x-queue-token': token } }))
}
