// Loaded with `node --import @tickets/shared/telemetry/register` so that instrumentation is in place
// before fastify, http or ioredis is imported. The loader hook must be registered before the SDK
// starts: without it ESM imports of ioredis are never patched.
import { register } from 'node:module'
// Only ioredis is patched through ESM imports (http comes through require, undici through diagnostics
// channels, Prisma through a global): wrapping every other module would cost every import for nothing.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['ioredis'] } })

const { startTelemetry, telemetrySettingsFrom } = await import('./telemetry.js')
const telemetry = startTelemetry(telemetrySettingsFrom(process.env))
if (telemetry) {
  const stop = () => void telemetry.shutdown().catch(() => undefined)
  process.once('beforeExit', stop)
}
