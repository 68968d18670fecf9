import { execFile } from 'node:child_process'
import { chmod, mkdir } from 'node:fs/promises'

/**
 * Creates a MariaDB data directory for a throw-away server. `--no-defaults` keeps the machine's own
 * my.cnf out of it, and a temporary directory of its own keeps installs running at once (a Galera
 * cluster's nodes, other test files) from removing each other's temporary tables in /tmp. A failure
 * says what the installer printed, or that it ran out of time.
 */
export async function installMariadbDataDir(datadir: string, timeoutMs = 120_000): Promise<void> {
  const tmp = `${datadir}.tmp`
  await mkdir(tmp, { recursive: true })
  await chmod(tmp, 0o777)
  const args = ['--no-defaults', '--user=mysql', `--datadir=${datadir}`, `--tmpdir=${tmp}`, '--skip-test-db', '--auth-root-authentication-method=normal']
  await new Promise<void>((resolve, reject) => {
    execFile('mariadb-install-db', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (!err) return resolve()
      const why = err.killed ? `killed after ${timeoutMs} ms` : `exit ${err.code ?? err.signal}`
      const printed = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n')
      reject(new Error(`mariadb-install-db --datadir=${datadir} failed (${why}):\n${printed}`, { cause: err }))
    })
  })
}
