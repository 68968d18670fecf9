import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon, stopAll, waitUntil, type Daemon } from './daemon.js'
import { freePort, which } from './index.js'

export interface ThrowawayNatsCluster {
  /** Every node's client URL, comma-separated: what NATS_URL holds for a cluster. */
  url: string
  nodes: Daemon[]
  /** True once the node's JetStream is up and in touch with the cluster (its /healthz is ok). */
  healthy(node: Daemon): Promise<boolean>
  dispose(): Promise<void>
}

/**
 * A JetStream cluster of `size` nats-server nodes on free ports, each with its own store directory
 * and routes to the others: ready once every node's /healthz is ok (a meta leader was elected).
 */
export async function startNatsCluster({ size = 3 }: { size?: number } = {}): Promise<ThrowawayNatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'tickets-throwaway-nats-cluster-'))
  const command = process.env.NATS_SERVER_BIN ?? (await which(['nats-server', '/usr/sbin/nats-server']))
  const ports: { client: number; route: number; monitor: number }[] = []
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() })
  const monitorOf = new Map<Daemon, number>()
  const nodes: Daemon[] = []
  const healthy = async (node: Daemon) => {
    const res = await fetch(`http://127.0.0.1:${monitorOf.get(node)}/healthz`, { signal: AbortSignal.timeout(1_000) })
    return res.ok
  }
  try {
    await Promise.all(
      ports.map(async (p, i) => {
        const routes = ports.filter((o) => o !== p).map((o) => `nats://127.0.0.1:${o.route}`)
        const args = ['-a', '127.0.0.1', '-p', String(p.client), '-m', String(p.monitor), '-n', `n${i}`, '-js', '-sd', join(dir, `n${i}`)]
        args.push('--cluster_name', 'tickets', '--cluster', `nats://127.0.0.1:${p.route}`, '--routes', routes.join(','))
        const node = await startDaemon('nats-server (cluster node)', command, args, p.client)
        monitorOf.set(node, p.monitor)
        nodes[i] = node
      }),
    )
    for (const node of nodes) await waitUntil(`nats node ${node.port} not healthy`, () => healthy(node), 30_000)
  } catch (err) {
    await stopAll(nodes.filter(Boolean))
    await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    throw err
  }
  return {
    url: nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(','),
    nodes,
    healthy,
    async dispose() {
      await stopAll(nodes)
      await rm(dir, { recursive: true, force: true, maxRetries: 5 })
    },
  }
}
