/**
 * The mariadb driver (3.4) rejects an internal promise nobody awaits when a pooled connection's
 * socket ends after MariaDB went away, also while a new connection runs its session settings
 * (ER_INITIAL_SQL_ERROR). The pool already replaces the connection, so this one rejection is noise;
 * anything else unhandled is still a bug that stops the process.
 */
export function isDriverConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; sqlState?: string } | null
  return (
    !!e && e.fatal === true && e.sqlState === '08S01' && (e.code === 'ER_SOCKET_UNEXPECTED_CLOSE' || e.code === 'ER_CMD_CONNECTION_CLOSED' || e.code === 'ER_INITIAL_SQL_ERROR')
  )
}

/** Process-level handling of unhandled rejections for a service on MariaDB (see isDriverConnectionLoss). */
export function guardUnhandledRejections(log: { warn(obj: object, msg: string): void }, fatal: (err: unknown) => void): void {
  process.on('unhandledRejection', (err) => {
    if (isDriverConnectionLoss(err)) log.warn({ err }, 'a database connection was lost; the pool replaces it')
    else fatal(err)
  })
}
