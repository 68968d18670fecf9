import { loadConfigOrExit } from '@tickets/shared/config'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigSchema } from './config.js'

const config = loadConfigOrExit(ConfigSchema, process.env, 'queue-service')
const app = await buildApp(config)
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err }) => {
  if (err) app.log.error({ err }, 'shutting down on error')
  await app.close()
})
await app.listen({ host: config.HOST, port: config.PORT })
