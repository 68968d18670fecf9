import { loadConfigOrExit } from '@tickets/shared/config'
import { guardUnhandledRejections } from '@tickets/shared/mysql'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigSchema } from './config.js'

const config = loadConfigOrExit(ConfigSchema, process.env, 'payment-service')
const app = await buildApp(config)
const close = closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS, skip: ['unhandledRejection'] }, async ({ err }) => {
  if (err) app.log.error({ err }, 'shutting down on error')
  await app.close()
})
// MariaDB going away must not take the service down with it (see guardUnhandledRejections).
guardUnhandledRejections(app.log, (err) => {
  app.log.error({ err }, 'shutting down on an unhandled rejection')
  close.close()
})
await app.listen({ host: config.HOST, port: config.PORT })
