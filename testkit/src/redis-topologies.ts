import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runClient, startDaemon, stopAll, waitUntil, type Daemon } from './daemon.js'
import { freePort } from './index.js'

export interface ThrowawayRedisCluster {
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,...`: what REDIS_URL holds for a cluster. */
  url: string
  nodes: Daemon[]
  dispose(): Promise<void>
}

const CLUSTER_TIMEOUT_MS = 20_000

/**
 * A Redis Cluster of `masters` primaries (no replicas) on free ports, each with its own directory,
 * made with `redis-cli --cluster create`: ready once every node says `cluster_state:ok`.
 */
export async function startRedisCluster({ masters = 3 }: { masters?: number } = {}): Promise<ThrowawayRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-redis-cluster-'))
  const nodes: Daemon[] = []
  try {
    for (let i = 0; i < masters; i++) {
      const [port, busPort] = [await freePort(), await freePort()]
      const nodeDir = join(dir, `n${i}`)
      await mkdir(nodeDir)
      const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes']
      args.push('--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000', '--dir', nodeDir, '--save', '', '--appendonly', 'no')
      nodes.push(await startDaemon('redis-server (cluster node)', 'redis-server', args, port))
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`)
    await runClient('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], CLUSTER_TIMEOUT_MS)
    for (const n of nodes) {
      await waitUntil(
        `redis cluster node ${n.port} not ok`,
        async () => /cluster_state:ok/.test(await runClient('redis-cli', ['-p', String(n.port), 'cluster', 'info'])),
        CLUSTER_TIMEOUT_MS,
      )
    }
  } catch (err) {
    await stopAll(nodes)
    await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    throw err
  }
  return {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    async dispose() {
      await stopAll(nodes)
      await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    },
  }
}

export interface ThrowawayRedisSentinel {
  /** `redis+sentinel://127.0.0.1:<sentinel port>?name=<master>`: what REDIS_URL holds behind Sentinel. */
  url: string
  primary: Daemon
  sentinel: Daemon
  dispose(): Promise<void>
}

/** One Redis primary watched by one sentinel (`redis-server --sentinel`), on free ports. */
export async function startRedisSentinel({ name = 'tickets' }: { name?: string } = {}): Promise<ThrowawayRedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-redis-sentinel-'))
  const daemons: Daemon[] = []
  try {
    const [port, sentinelPort] = [await freePort(), await freePort()]
    daemons.push(await startDaemon('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], port))
    // Sentinel rewrites its configuration file as it learns: it must be its own, writable.
    const conf = join(dir, 'sentinel.conf')
    await writeFile(
      conf,
      [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${name} 127.0.0.1 ${port} 1`, `sentinel down-after-milliseconds ${name} 2000`, ''].join('\n'),
    )
    daemons.push(await startDaemon('redis-server (sentinel)', 'redis-server', [conf, '--sentinel'], sentinelPort))
    await waitUntil('sentinel does not know its primary', async () =>
      (await runClient('redis-cli', ['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', name])).includes(String(port)),
    )
  } catch (err) {
    await stopAll(daemons)
    await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    throw err
  }
  const [primary, sentinel] = daemons as [Daemon, Daemon]
  return {
    url: `redis+sentinel://127.0.0.1:${sentinel.port}?name=${name}`,
    primary,
    sentinel,
    async dispose() {
      await stopAll(daemons)
      await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    },
  }
}
