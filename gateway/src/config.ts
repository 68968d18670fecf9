import { authConfigProperties, commonConfigProperties, redisConfigProperties } from '@tickets/shared/config'
import { Type, type Static } from 'typebox'

const UrlList = (defaults: string) => Type.String({ default: defaults, pattern: '^https?://[^,\\s]+(,https?://[^,\\s]+)*$' })

export const ConfigSchema = Type.Object({
  ...commonConfigProperties,
  ...redisConfigProperties,
  ...authConfigProperties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
  INSTANCE_ID: Type.String({ default: 'gateway-1' }),
  /** Comma-separated instances of each service; requests are balanced across them. */
  QUEUE_URLS: UrlList('http://127.0.0.1:3001'),
  BOOKING_URLS: UrlList('http://127.0.0.1:3002'),
  PAYMENT_URLS: UrlList('http://127.0.0.1:3003'),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1_024, default: 16 * 1024 }),
})
export type Config = Static<typeof ConfigSchema>

export function urlList(value: string): string[] {
  return value.split(',').map((u) => u.trim().replace(/\/$/, '')).filter(Boolean)
}
