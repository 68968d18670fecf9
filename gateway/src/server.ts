import { loadConfigOrExit } from '@tickets/shared/config'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigSchema } from './config.js'

const config = loadConfigOrExit(ConfigSchema, process.env, 'gateway')
const app = await buildApp(config)
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err }) => {
  if (err) app.log.error({ err }, 'shutting down on error')
  await app.close()
})
await app.admin.listen({ host: config.ADMIN_HOST, port: config.ADMIN_PORT })
await app.listen({ host: config.HOST, port: config.PORT })
if (!config.OPERATOR_SECRET) app.log.warn('OPERATOR_SECRET is not set: the operator switches are off (they can still be read from Redis)')
