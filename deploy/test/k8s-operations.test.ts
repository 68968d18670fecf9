import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { finder, podTemplates, render, validateObject, type K8sObject } from './helpers/k8s.js'
import { deployDir } from './helpers/tools.js'

const SERVICES = ['gateway', 'queue-service', 'booking-service', 'payment-service']
const dev = render('dev')
const production = render('production')
const withComponents = render('production', ['custom-metrics', 'prometheus-operator'])
const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }

/** What the "restricted" Pod Security Standard refuses in one pod (the checks of its current version). */
function restrictedViolations(pod: any): string[] {
  const problems: string[] = []
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push('shares a host namespace')
  for (const v of pod.volumes ?? [])
    if (!['emptyDir', 'configMap', 'secret', 'persistentVolumeClaim', 'projected', 'downwardAPI'].some((k) => k in v)) problems.push(`volume ${v.name} of a refused type`)
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const sc = c.securityContext ?? {}
    if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot is not true`)
    if ((sc.runAsUser ?? pod.securityContext?.runAsUser) === 0) problems.push(`${c.name}: runs as uid 0`)
    if (sc.privileged) problems.push(`${c.name}: privileged`)
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation is not false`)
    if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${c.name}: does not drop ALL capabilities`)
    if ((sc.capabilities?.add ?? []).some((cap: string) => cap !== 'NET_BIND_SERVICE')) problems.push(`${c.name}: adds capabilities`)
    if (!['RuntimeDefault', 'Localhost'].includes(sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type))
      problems.push(`${c.name}: no RuntimeDefault seccomp profile`)
    if (c.ports?.some((p: { hostPort?: number }) => p.hostPort)) problems.push(`${c.name}: uses a host port`)
  }
  return problems
}

describe('Kubernetes as operators run it (deploy/k8s)', () => {
  it('the namespace enforces the restricted Pod Security Standard, and every pod of both overlays meets it', () => {
    for (const [overlay, objects] of Object.entries({ dev, production })) {
      const ns = finder(objects)('Namespace', 'tickets')
      expect(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'], `${overlay}: namespace label`).toBe('restricted')
      for (const { name, pod } of podTemplates(objects)) expect(restrictedViolations(pod), `${overlay}: ${name}`).toEqual([])
    }
  })

  it('the HPAs of both overlays scale on resource metrics alone, so they scale down without the Prometheus adapter', () => {
    for (const hpa of [...dev, ...production].filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      expect(hpa.spec.metrics, hpa.metadata.name).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }])
    }
  })

  it('the custom-metrics component adds requests per second to the gateway and queue HPAs, and nothing else', () => {
    const find = finder(withComponents)
    for (const [name, target] of [
      ['gateway', '400'],
      ['queue-service', '800'],
    ]) {
      const metrics = find('HorizontalPodAutoscaler', name!)!.spec.metrics
      expect(metrics.map((m: { type: string }) => m.type)).toEqual(['Resource', 'Pods'])
      expect(metrics[1].pods).toEqual({ metric: { name: 'http_requests_per_second' }, target: { type: 'AverageValue', averageValue: target } })
    }
    for (const name of ['booking-service', 'payment-service']) expect(find('HorizontalPodAutoscaler', name)!.spec.metrics).toHaveLength(1)
  })

  it('production runs three of each service, spread over zones and hosts, and a drain takes one pod at a time', () => {
    const find = finder(production)
    for (const service of SERVICES) expect(finder(dev)('Deployment', service)!.spec.replicas, `dev ${service}`).toBe(1)
    for (const service of SERVICES) {
      const deployment = find('Deployment', service)!
      const hpa = find('HorizontalPodAutoscaler', service)!
      expect(deployment.spec.replicas, service).toBe(3)
      expect(hpa.spec.minReplicas, service).toBe(3)
      expect(find('PodDisruptionBudget', service)!.spec.maxUnavailable, service).toBe(1)
      const spread = deployment.spec.template.spec.topologySpreadConstraints
      expect(spread.map((c: { topologyKey: string }) => c.topologyKey).sort()).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone'])
      for (const c of spread) {
        // The constraint counts this service's pods: its selector and matchLabelKeys match the pod's own labels.
        const labels = deployment.spec.template.metadata.labels
        expect(labels).toMatchObject(c.labelSelector.matchLabels)
        for (const key of c.matchLabelKeys) expect(labels[key], `${service}: ${key}`).toBeDefined()
      }
    }
  })

  it("every PDB lets a drain proceed: at most one pod out, never more than the HPA's floor", () => {
    for (const objects of [dev, production]) {
      const find = finder(objects)
      for (const service of SERVICES) {
        const pdb = find('PodDisruptionBudget', service)!
        expect(pdb.spec.minAvailable).toBeUndefined()
        expect(pdb.spec.maxUnavailable).toBeLessThanOrEqual(find('HorizontalPodAutoscaler', service)!.spec.minReplicas)
      }
    }
  })

  it('Jaeger keeps a bounded number of traces in memory, within a memory limit', () => {
    for (const objects of [dev, production]) {
      const jaeger = finder(objects)('Deployment', 'jaeger')!.spec.template.spec.containers[0]
      expect(jaeger.args).toContain('--memory.max-traces=20000')
      expect(jaeger.resources.limits.memory).toBeDefined()
    }
    const compose = parse(readFileSync(join(deployDir, 'compose', 'compose.yaml'), 'utf8'))
    expect(compose.services.jaeger.command).toContain('--memory.max-traces=20000')
  })

  it('every service sends its spans to the Collector, which samples whole traces and sends them to Jaeger', () => {
    const find = finder(production)
    const endpoint = new URL(find('ConfigMap', 'tickets-config')!.data!.OTEL_EXPORTER_OTLP_ENDPOINT!)
    expect(find('Service', endpoint.hostname)!.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(endpoint.port))
    const collector = parse(readFileSync(join(deployDir, 'k8s', 'base', 'otel-collector', 'config.yaml'), 'utf8'))
    const [host, port] = collector.exporters['otlp/jaeger'].endpoint.split(':')
    expect(find('Service', host)!.spec.ports.map((p: { port: number }) => p.port)).toContain(Number(port))
    const policies = Object.fromEntries(collector.processors.tail_sampling.policies.map((p: { type: string }) => [p.type, p]))
    expect(policies.latency.latency.threshold_ms).toBe(500)
    expect(policies.probabilistic.probabilistic.sampling_percentage).toBe(10)
  })

  it('memory: each service requests 192Mi with a 384Mi limit, and its image caps the V8 heap at a third of the limit', () => {
    for (const service of SERVICES) {
      const { resources } = finder(production)('Deployment', service)!.spec.template.spec.containers[0]
      expect(resources.requests.memory).toBe('192Mi')
      expect(resources.limits.memory).toBe('384Mi')
      const image = readFileSync(join(deployDir, 'images', `${service}.Dockerfile`), 'utf8')
      expect(Number(/--max-old-space-size=(\d+)/.exec(image)?.[1])).toBe(384 / 3)
    }
  })

  it('each workload may call only what it uses: its egress ports', () => {
    const egressPorts = (name: string) =>
      finder(production)('NetworkPolicy', name)!
        .spec.egress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port))
        .sort((a: number, b: number) => a - b)
    expect(egressPorts('gateway')).toEqual([3001, 3002, 3003, 4318, 6379, 26379])
    expect(egressPorts('queue-service')).toEqual([4222, 4318, 6379, 26379])
    for (const name of ['booking-service', 'payment-service']) expect(egressPorts(name)).toEqual([3306, 4222, 4318, 6379, 26379])
    expect(egressPorts('tickets-ops')).toEqual([3306, 4222, 6379, 26379])
  })

  it("production: fans reach the gateway's port through an Ingress, open to its namespace only, its proxies trusted", () => {
    const find = finder(production)
    const ingress = find('Ingress', 'gateway')!
    const backend = ingress.spec.rules[0].http.paths[0].backend.service
    expect(backend.name).toBe('gateway')
    expect(ingress.spec).toMatchObject({ ingressClassName: 'nginx', tls: [{ hosts: ['tickets.example.com'], secretName: 'tickets-tls' }] })
    expect(find('Service', 'gateway')!.spec.ports.find((p: { name: string }) => p.name === backend.port.name)?.targetPort).toBe('http')
    const policy = find('NetworkPolicy', 'gateway')!
    const publicRule = policy.spec.ingress.find((r: { ports: { port: number }[] }) => r.ports.some((p) => p.port === 8080))
    expect(publicRule.from).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }])
    expect(find('ConfigMap', 'tickets-config')!.data!.TRUSTED_PROXIES).toBe('10.0.0.0/8')
  })

  it("the gateway's operator switches need the Secret's OPERATOR_SECRET, and the admin port is in no Service or Ingress", () => {
    for (const objects of [dev, production]) {
      const find = finder(objects)
      const env = find('Deployment', 'gateway')!.spec.template.spec.containers[0].env
      expect(env.find((e: { name: string }) => e.name === 'OPERATOR_SECRET')?.valueFrom.secretKeyRef).toEqual({ name: 'tickets-secrets', key: 'OPERATOR_SECRET' })
      const exposed = objects.filter((o) => o.kind === 'Service' || o.kind === 'Ingress').flatMap((o) => JSON.stringify(o.spec).match(/908\d|"admin"/g) ?? [])
      expect(exposed).toEqual([])
    }
  })

  describe('the prometheus-operator component', () => {
    const find = finder(withComponents)

    it('scrapes each service pod on its admin port under a job named after the pod, the names ServiceDown matches', () => {
      const monitor = withComponents.find((o) => o.kind === 'PodMonitor')!
      const alerts = readFileSync(join(deployDir, 'prometheus', 'alerts.yml'), 'utf8')
      const serviceDownJobs = new RegExp(`^(?:${/up\{job=~"([^"]+)"\} == 0/.exec(alerts)![1]})$`)
      for (const service of SERVICES) {
        const template = find('Deployment', service)!.spec.template
        expect(template.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels)
        expect(template.metadata.labels[monitor.spec.jobLabel]).toMatch(serviceDownJobs)
        const port = monitor.spec.podMetricsEndpoints[0].port
        expect(template.spec.containers[0].ports.map((p: { name: string }) => p.name)).toContain(port)
      }
      for (const other of withComponents.filter((o) => o.kind === 'Deployment' && !SERVICES.includes(o.metadata.name))) {
        expect(other.spec.template.metadata.labels, other.metadata.name).not.toMatchObject(monitor.spec.selector.matchLabels)
      }
    })

    it('carries exactly the rules of deploy/prometheus/alerts.yml (node scripts/prometheus-rule.mjs writes them)', () => {
      const rule = withComponents.find((o) => o.kind === 'PrometheusRule') as K8sObject
      const alerts = parse(readFileSync(join(deployDir, 'prometheus', 'alerts.yml'), 'utf8'))
      expect(rule.spec.groups).toEqual(alerts.groups)
    })

    it("points the operator console at the operator's Prometheus and Alertmanager, and lets the gateway reach them", async () => {
      const config = find('ConfigMap', 'tickets-config')!.data!
      expect(config.PROMETHEUS_URL).toBe('http://prometheus-operated.monitoring.svc:9090')
      expect(config.ALERTMANAGER_URL).toBe('http://alertmanager-operated.monitoring.svc:9093')
      const egress = find('NetworkPolicy', 'gateway')!.spec.egress
      expect(egress).toContainEqual({
        ports: [
          { protocol: 'TCP', port: 9090 },
          { protocol: 'TCP', port: 9093 },
        ],
        to: [monitoring],
      })
      for (const obj of withComponents.filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com'))) await validateObject(obj, 'production + components')
    })
  })
})
