import { loadConfigOrExit } from '@tickets/shared/config'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigSchema } from './config.js'
import { buildOperatorApp } from './operator.js'

const config = loadConfigOrExit(ConfigSchema, process.env, 'gateway')
const app = await buildApp(config)
const operator = config.OPERATOR_SECRET ? await buildOperatorApp({ ...config, OPERATOR_SECRET: config.OPERATOR_SECRET }) : undefined
closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ err }) => {
  if (err) app.log.error({ err }, 'shutting down on error')
  await Promise.all([app.close(), operator?.close()])
})
await app.listen({ host: config.HOST, port: config.PORT })
if (operator) await operator.listen({ host: config.OPERATOR_HOST, port: config.OPERATOR_PORT })
else app.log.warn('OPERATOR_SECRET is not set: the operator listener is off (switches can still be read)')
