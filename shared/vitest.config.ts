import { serviceTestConfig } from '@tickets/testkit/vitest'

export default serviceTestConfig({
  // The readiness test stops a throw-away MariaDB under an open pool; the driver then rejects one
  // internal promise nobody awaits (isDriverConnectionLoss in src/mysql.ts, which the services guard
  // the same way). Everything else unhandled still fails the run.
  onUnhandledError(error) {
    const e = error as { code?: string; fatal?: boolean; sqlState?: string }
    if (e?.fatal === true && e.sqlState === '08S01' && e.code === 'ER_SOCKET_UNEXPECTED_CLOSE') return false
  },
})
