import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { parse, stringify } from 'yaml'
import { finder, render } from './helpers/k8s.js'
import { deployDir, requireTool, run } from './helpers/tools.js'

const SERVICES = ['gateway', 'queue-service', 'booking-service', 'payment-service']
const configFile = join(deployDir, 'prometheus', 'kubernetes.yml')
const alertsFile = join(deployDir, 'prometheus', 'alerts.yml')

async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * The meta labels Kubernetes discovery gives a pod, from a rendered pod template: its labels and
 * annotations, its namespace and name, and an address (here the loopback, on `port`).
 */
function podMeta(template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } }, pod: string, port: number) {
  const meta: Record<string, string> = { __meta_kubernetes_namespace: 'tickets', __meta_kubernetes_pod_name: pod, __meta_kubernetes_pod_ip: '127.0.0.1' }
  const name = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_')
  for (const [k, v] of Object.entries(template.metadata.labels)) meta[`__meta_kubernetes_pod_label_${name(k)}`] = v
  for (const [k, v] of Object.entries(template.metadata.annotations ?? {})) meta[`__meta_kubernetes_pod_annotation_${name(k)}`] = v
  if (meta.__meta_kubernetes_pod_annotation_prometheus_io_port) meta.__meta_kubernetes_pod_annotation_prometheus_io_port = String(port)
  return meta
}

describe('Prometheus in a cluster without the operator (deploy/prometheus/kubernetes.yml)', () => {
  let dir: string
  let metrics: Server
  let prometheus: ChildProcess
  let api: string

  beforeAll(async () => {
    requireTool('prometheus', 'prometheus')
    dir = mkdtempSync(join(tmpdir(), 'tickets-prom-k8s-'))
    metrics = createServer((_req, res) => res.end('# TYPE tickets_probe gauge\ntickets_probe 1\n'))
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve))
    const live = (metrics.address() as { port: number }).port
    const dead = await freePort()

    // Every pod of the production overlay, as Kubernetes discovery would list it: the services
    // answer, except booking's which is down; the other workloads carry no scrape annotation.
    const objects = render('production')
    const find = finder(objects)
    const groups = objects
      .filter((o) => o.kind === 'Deployment')
      .map((d) => ({ targets: ['pod-address'], labels: podMeta(d.spec.template, `${d.metadata.name}-abc12`, d.metadata.name === 'booking-service' ? dead : live) }))
    expect(find('Deployment', 'jaeger')).toBeDefined()
    writeFileSync(join(dir, 'pods.json'), JSON.stringify(groups))

    // The shipped job with its discovery swapped for the file above: its relabelling is what is tested.
    const config = parse(readFileSync(configFile, 'utf8'))
    config.global = { scrape_interval: '1s', evaluation_interval: '1s' }
    delete config.alerting
    const job = config.scrape_configs[0]
    delete job.kubernetes_sd_configs
    job.file_sd_configs = [{ files: [join(dir, 'pods.json')] }]
    writeFileSync(join(dir, 'prometheus.yml'), stringify(config))
    copyFileSync(alertsFile, join(dir, 'alerts.yml'))

    const port = await freePort()
    api = `http://127.0.0.1:${port}`
    prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
      stdio: 'ignore',
    })
    await vi.waitFor(async () => expect((await fetch(`${api}/-/ready`)).ok).toBe(true), { timeout: 30_000, interval: 200 })
  }, 60_000)

  afterAll(async () => {
    prometheus?.kill()
    await new Promise((resolve) => metrics?.close(resolve))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  const query = async (path: string) => ((await (await fetch(`${api}${path}`)).json()) as { data: any }).data

  // Debian's Prometheus is built without Kubernetes discovery: promtool checks the copy whose
  // discovery is a file (everything else as shipped), and the discovery block is checked here.
  it('promtool accepts the configuration with the project alert rules; discovery lists the pods of the namespace', () => {
    requireTool('promtool', 'prometheus')
    const r = run('promtool', ['check', 'config', join(dir, 'prometheus.yml')])
    expect(r.status, `deploy/prometheus/kubernetes.yml: ${r.out}`).toBe(0)
    const shipped = parse(readFileSync(configFile, 'utf8')).scrape_configs[0].kubernetes_sd_configs
    const namespace = render('production').find((o) => o.kind === 'Namespace')!.metadata.name
    expect(shipped).toEqual([{ role: 'pod', namespaces: { names: [namespace] } }])
  })

  it('scrapes only the annotated pods, on their admin port, with the job, namespace and pod of each', async () => {
    const targets = await vi.waitFor(
      async () => {
        const active = (await query('/api/v1/targets')).activeTargets as { labels: Record<string, string>; health: string }[]
        expect(active.filter((t) => t.health !== 'unknown')).toHaveLength(SERVICES.length)
        return active
      },
      { timeout: 30_000, interval: 250 },
    )
    expect(targets.map((t) => t.labels.job).sort()).toEqual([...SERVICES].sort())
    for (const t of targets) expect(t.labels).toMatchObject({ namespace: 'tickets', pod: `${t.labels.job}-abc12` })
  })

  it('ServiceDown, as alerts.yml writes it, selects the pod that does not answer and no other', async () => {
    const rules = parse(readFileSync(alertsFile, 'utf8')).groups.flatMap((g: { rules: { alert?: string; expr: string }[] }) => g.rules)
    const expr = rules.find((r: { alert?: string }) => r.alert === 'ServiceDown').expr
    const down = await vi.waitFor(
      async () => {
        const result = (await query(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result as { metric: Record<string, string> }[]
        expect(result).toHaveLength(1)
        return result
      },
      { timeout: 30_000, interval: 250 },
    )
    expect(down[0]!.metric).toMatchObject({ job: 'booking-service', pod: 'booking-service-abc12' })
  })
})
