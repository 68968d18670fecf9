import { runService } from '@tickets/shared/server'
import { buildApp } from './app.js'
import { ConfigSchema } from './config.js'

await runService({ service: 'queue-service', schema: ConfigSchema, env: process.env, buildApp })
