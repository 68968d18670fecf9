import { guardUnhandledRejections } from '@tickets/shared/mysql'
import { runService } from '@tickets/shared/server'
import { buildApp } from './app.js'
import { ConfigSchema } from './config.js'

// MariaDB going away must not take the service down with it (see guardUnhandledRejections).
await runService({ service: 'payment-service', schema: ConfigSchema, env: process.env, buildApp, guardRejections: guardUnhandledRejections })
