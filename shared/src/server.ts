import closeWithGrace from 'close-with-grace'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Static, TObject } from 'typebox'
import './admin.js'
import { loadConfigOrExit } from './config.js'

interface ListenConfig {
  HOST: string
  PORT: number
  ADMIN_HOST: string
  ADMIN_PORT: number
  SHUTDOWN_GRACE_MS: number
}

export interface RunServiceOptions<T extends TObject> {
  service: string
  schema: T
  /** process.env, passed by server.ts: the one module that reads it. */
  env: Record<string, string | undefined>
  buildApp(config: Readonly<Static<T>>): Promise<FastifyInstance>
  /**
   * Takes over unhandled rejections and calls `fatal` for those that must stop the process (a
   * service on MariaDB passes guardUnhandledRejections: the driver's known one must not).
   */
  guardRejections?: (log: FastifyBaseLogger, fatal: (err: unknown) => void) => void
}

/**
 * A service's process: its config from the environment (a bad setting exits with one line), its
 * app, a graceful close on a signal or a fatal error (close-with-grace, 503 while it drains), and
 * listen: the admin listener first (readiness says STARTING until the public port listens).
 */
export async function runService<T extends TObject>(opts: RunServiceOptions<T>): Promise<FastifyInstance> {
  const config = loadConfigOrExit(opts.schema, opts.env, opts.service)
  const { HOST, PORT, ADMIN_HOST, ADMIN_PORT, SHUTDOWN_GRACE_MS } = config as Static<T> & ListenConfig
  const app = await opts.buildApp(config)
  const close = closeWithGrace({ delay: SHUTDOWN_GRACE_MS, skip: opts.guardRejections ? ['unhandledRejection'] : [] }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down on error')
    await app.close()
  })
  opts.guardRejections?.(app.log, (err) => {
    app.log.error({ err }, 'shutting down on an unhandled rejection')
    close.close()
  })
  await app.admin.listen({ host: ADMIN_HOST, port: ADMIN_PORT })
  await app.listen({ host: HOST, port: PORT })
  return app
}
