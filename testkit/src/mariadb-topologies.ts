import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runClient, startDaemon, stopAll, waitUntil, type Daemon } from './daemon.js'
import { freePort, which } from './index.js'
import { installMariadbDataDir } from './mariadb-data-dir.js'

export interface MariadbServer {
  /** `mysql://root@127.0.0.1:<port>`: append `/<database>`. */
  url: string
  daemon: Daemon
  /** Runs statements with the command-line client; rows as tab-separated lines. */
  sql(statements: string): Promise<string>
}

export interface ThrowawayMariadbReplication {
  primary: MariadbServer
  /** Read-only, replicating from the primary by GTID. */
  replica: MariadbServer
  /** Resolves once the replica has applied everything the primary has committed so far. */
  caughtUp(timeoutSeconds?: number): Promise<void>
  dispose(): Promise<void>
}

function server(port: number, daemon: Daemon): MariadbServer {
  return {
    url: `mysql://root@127.0.0.1:${port}`,
    daemon,
    sql: (statements) => runClient('mariadb', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '-N', '-B', '-e', statements]),
  }
}

/**
 * A MariaDB primary (binary log on) and one read-only replica following it by GTID, on free ports,
 * each with its own data directory: what "primary with replicas" means, on one machine.
 */
export async function startMariadbReplication(): Promise<ThrowawayMariadbReplication> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-mariadb-replication-'))
  // mariadbd drops to the mysql user, which must be able to enter the directory.
  await chmod(dir, 0o755)
  const mariadbd = await which(['mariadbd', '/usr/sbin/mariadbd'])
  const daemons: Daemon[] = []
  try {
    await Promise.all(['primary', 'replica'].map((name) => installMariadbDataDir(join(dir, name))))
    const start = async (name: string, serverId: number, extra: string[]) => {
      const port = await freePort()
      const data = join(dir, name)
      const args = ['--no-defaults', '--user=mysql', `--datadir=${data}`, `--socket=${data}/mysqld.sock`, `--port=${port}`, '--bind-address=127.0.0.1']
      args.push(`--pid-file=${data}/mysqld.pid`, `--server-id=${serverId}`, ...extra)
      const daemon = await startDaemon(`mariadbd (${name})`, mariadbd, args, port)
      daemons.push(daemon)
      return server(port, daemon)
    }
    const primary = await start('primary', 1, [`--log-bin=${join(dir, 'primary', 'binlog')}`, '--binlog-format=ROW'])
    const replica = await start('replica', 2, [`--relay-log=${join(dir, 'replica', 'relay')}`, '--read-only'])
    await primary.sql("CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'")
    const primaryPort = primary.daemon.port
    await replica.sql(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort}, MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE`,
    )
    await waitUntil('the replica is not replicating', async () => /\tON\b/.test(await replica.sql("SHOW GLOBAL STATUS LIKE 'Slave_running'")))
    const caughtUp = async (timeoutSeconds = 20) => {
      const position = (await primary.sql('SELECT @@gtid_binlog_pos')).trim()
      const reached = (await replica.sql(`SELECT MASTER_GTID_WAIT('${position}', ${timeoutSeconds})`)).trim()
      if (reached !== '0') throw new Error(`the replica did not reach the primary's ${position} within ${timeoutSeconds} s`)
    }
    await caughtUp()
    return {
      primary,
      replica,
      caughtUp,
      async dispose() {
        await stopAll(daemons)
        await rm(dir, { recursive: true, force: true, maxRetries: 5 })
      },
    }
  } catch (err) {
    await stopAll(daemons)
    await rm(dir, { recursive: true, force: true, maxRetries: 5 }).catch(() => undefined)
    throw err
  }
}

export interface ThrowawayGaleraCluster {
  nodes: MariadbServer[]
  dispose(): Promise<void>
}

/**
 * A Galera cluster of `size` MariaDB nodes (Debian's galera-4, state transfer by rsync) on free
 * ports, each with its own data directory: ready once every node says Synced.
 */
export async function startGaleraCluster({ size = 2 }: { size?: number } = {}): Promise<ThrowawayGaleraCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-galera-'))
  await chmod(dir, 0o755)
  const mariadbd = await which(['mariadbd', '/usr/sbin/mariadbd'])
  const provider = await which(['/usr/lib/galera/libgalera_smm.so', '/usr/lib64/galera-4/libgalera_smm.so'])
  const daemons: Daemon[] = []
  try {
    const names = Array.from({ length: size }, (_, i) => `g${i}`)
    await Promise.all(names.map((name) => installMariadbDataDir(join(dir, name))))
    const nodes: MariadbServer[] = []
    let first: number | undefined
    for (const name of names) {
      const [port, group, ist, sst] = [await freePort(), await freePort(), await freePort(), await freePort()]
      const data = join(dir, name)
      const args = [
        '--no-defaults',
        '--user=mysql',
        `--datadir=${data}`,
        `--socket=${data}/mysqld.sock`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${data}/mysqld.pid`,
      ]
      args.push('--binlog-format=ROW', '--innodb-autoinc-lock-mode=2', '--wsrep-on=ON', `--wsrep-provider=${provider}`, '--wsrep-cluster-name=tickets', `--wsrep-node-name=${name}`)
      args.push('--wsrep-node-address=127.0.0.1', '--wsrep-sst-method=rsync', `--wsrep-sst-receive-address=127.0.0.1:${sst}`)
      args.push(`--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${group};ist.recv_addr=127.0.0.1:${ist}`)
      args.push(`--wsrep-cluster-address=gcomm://${first === undefined ? '' : `127.0.0.1:${first}`}`)
      first ??= group
      // A joining node opens its port after the state transfer.
      const daemon = await startDaemon(`mariadbd (${name})`, mariadbd, args, port, 90_000)
      daemons.push(daemon)
      const node = server(port, daemon)
      await waitUntil(`galera node ${name} is not synced`, async () => /\tSynced\b/.test(await node.sql("SHOW STATUS LIKE 'wsrep_local_state_comment'")), 60_000)
      nodes.push(node)
    }
    return {
      nodes,
      async dispose() {
        await stopAll([...daemons].reverse())
        await rm(dir, { recursive: true, force: true, maxRetries: 5 })
      },
    }
  } catch (err) {
    await stopAll(daemons)
    await rm(dir, { recursive: true, force: true, maxRetries: 5 }).catch(() => undefined)
    throw err
  }
}
