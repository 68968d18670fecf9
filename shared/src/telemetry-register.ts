// Loaded with `node --import @tickets/shared/telemetry/register` so that instrumentation is in place
// before fastify, http or ioredis is imported. The loader hook must be registered before the SDK
// starts: without it ESM imports of ioredis are never patched.
import { register } from 'node:module'
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url)

const { startTelemetry, telemetrySettingsFrom } = await import('./telemetry.js')
const sdk = startTelemetry(telemetrySettingsFrom(process.env))
if (sdk) {
  const stop = () => void sdk.shutdown().catch(() => undefined)
  process.once('beforeExit', stop)
}
