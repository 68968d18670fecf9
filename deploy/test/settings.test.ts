import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigSchema as bookingSchema } from '@tickets/booking-service/config'
import { ConfigSchema as gatewaySchema } from '@tickets/gateway/config'
import { ConfigSchema as paymentSchema } from '@tickets/payment-service/config'
import { ConfigSchema as queueSchema } from '@tickets/queue-service/config'
import { loadConfig } from '@tickets/shared/config'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { finder, render, type K8sObject } from './helpers/k8s.js'
import { deployDir } from './helpers/tools.js'

type Env = Record<string, string | undefined>

const SCHEMAS: Record<string, typeof gatewaySchema | typeof queueSchema | typeof bookingSchema | typeof paymentSchema> = {
  gateway: gatewaySchema,
  'queue-service': queueSchema,
  'booking-service': bookingSchema,
  'payment-service': paymentSchema,
}
const KNOWN = new Set(Object.values(SCHEMAS).flatMap((s) => Object.keys(s.properties)))
const LOOPBACK = /127\.0\.0\.1|localhost|\[::1\]/

/** Settings a deployment may leave unset: the feature stays off, and the service says so. */
const OFF_WHEN_UNSET = new Set([
  'AUTH_JWKS_URL', // user tokens are HS256 with AUTH_JWT_SECRET
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'TRACES_FILE', // the console lists no recent traces; Jaeger has them
])
/** Where no Prometheus or Alertmanager runs, the operator console says it has none to ask. */
const CONSOLE_SOURCES = ['PROMETHEUS_URL', 'ALERTMANAGER_URL']

const secretTemplate = parse(readFileSync(join(deployDir, 'k8s', 'base', 'secret.template.yaml'), 'utf8')).stringData as Record<string, string>

/** The ENV of a service image's last stage: what every container of it starts with. */
function imageEnv(service: string): Env {
  const text = readFileSync(join(deployDir, 'images', `${service}.Dockerfile`), 'utf8').replace(/\\\n/g, ' ')
  const lastStage = text.slice(text.lastIndexOf('\nFROM '))
  const env: Env = {}
  for (const line of lastStage.split('\n').filter((l) => l.startsWith('ENV '))) {
    for (const pair of line.slice(4).trim().split(/\s+/)) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1)
  }
  return env
}

/** A Deployment's container environment as the kubelet builds it; Secret values from the template. */
function podEnv(objects: K8sObject[], service: string): Env {
  const find = finder(objects)
  const deployment = find('Deployment', service)!
  const container = deployment.spec.template.spec.containers[0]
  const env: Env = {}
  for (const from of container.envFrom ?? []) Object.assign(env, find('ConfigMap', from.configMapRef.name)!.data)
  for (const e of container.env ?? []) {
    const ref = e.valueFrom
    env[e.name] = e.value ?? (ref?.secretKeyRef ? secretTemplate[ref.secretKeyRef.key] : ref?.fieldRef ? `${service}-7d9f-abcde` : undefined)
  }
  return env
}

/** ${NAME}, ${NAME:-default}, ${NAME:?error} and $$ as compose reads them, from `vars`. */
function interpolate(value: string, vars: Env): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (all, name?: string, kind?: string, rest?: string) => {
    if (all === '$$') return '$'
    const set = vars[name!]
    if (set) return set
    if (kind === '?') throw new Error(`compose needs ${name}: ${rest}`)
    return kind === '-' ? rest! : ''
  })
}

function composeEnv(service: string): Env {
  const compose = parse(readFileSync(join(deployDir, 'compose', 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, { environment: Record<string, unknown> }> }
  // What an operator puts in deploy/compose/.env (see .env.example).
  const dotEnv = { AUTH_JWT_SECRET: 'a'.repeat(48), INTERNAL_SECRET: 'b'.repeat(48), OPERATOR_SECRET: 'c'.repeat(48), MARIADB_PASSWORD: 'pw', MARIADB_ROOT_PASSWORD: 'root' }
  return Object.fromEntries(Object.entries(compose.services[service]!.environment).map(([k, v]) => [k, interpolate(String(v), dotEnv)]))
}

/**
 * What is wrong with one container's settings: a setting the service reads that has no default and
 * is not set (unless unset only turns a feature off), a default that names the loopback (right on a
 * laptop, wrong in a container), a value naming the loopback, a setting no service reads (a typo),
 * or a value the service's own schema refuses.
 */
function settingProblems(service: string, deployed: Env, image: Env, mayStayUnset: Set<string>): string[] {
  const schema = SCHEMAS[service]!
  const env = { ...image, ...deployed }
  const problems: string[] = []
  for (const [name, prop] of Object.entries<{ default?: unknown }>(schema.properties as never)) {
    const set = env[name] !== undefined
    if (!set && prop.default === undefined && !mayStayUnset.has(name)) problems.push(`${name} is not set and has no default`)
    if (!set && LOOPBACK.test(String(prop.default ?? ''))) problems.push(`${name} is not set and its default (${String(prop.default)}) is the loopback`)
  }
  for (const [name, value] of Object.entries(env)) if (LOOPBACK.test(value ?? '')) problems.push(`${name}=${value} names the loopback`)
  for (const name of Object.keys(deployed)) if (!KNOWN.has(name) && !name.startsWith('OTEL_')) problems.push(`${name} is read by no service`)
  try {
    loadConfig(schema, env)
  } catch (err) {
    problems.push(`refused by the config schema: ${(err as Error).message}`)
  }
  return problems
}

describe('every setting a service reads is set by the deploy files or has a default that is safe there', () => {
  const k8s = {
    dev: { objects: render('dev'), unset: new Set([...OFF_WHEN_UNSET, ...CONSOLE_SOURCES]) },
    production: { objects: render('production'), unset: new Set([...OFF_WHEN_UNSET, ...CONSOLE_SOURCES]) },
    'production + prometheus-operator': { objects: render('production', ['prometheus-operator']), unset: OFF_WHEN_UNSET },
  }
  for (const service of Object.keys(SCHEMAS)) {
    for (const [name, { objects, unset }] of Object.entries(k8s)) {
      it(`Kubernetes ${name}: ${service}`, () => {
        expect(settingProblems(service, podEnv(objects, service), imageEnv(service), unset)).toEqual([])
      })
    }
    it(`compose: ${service}`, () => {
      expect(settingProblems(service, composeEnv(service), imageEnv(service), OFF_WHEN_UNSET)).toEqual([])
    })
  }

  it('behind the production ingress the gateway trusts its X-Forwarded-For; elsewhere nothing stands in front of it', () => {
    expect(podEnv(k8s.production.objects, 'gateway').TRUSTED_PROXIES).toBeTruthy()
    expect(podEnv(k8s.dev.objects, 'gateway').TRUSTED_PROXIES).toBeUndefined()
    expect(composeEnv('gateway').TRUSTED_PROXIES).toBeUndefined()
  })

  it("the gateway gets an operator secret everywhere, so the runbook's switches can be thrown", () => {
    for (const { objects } of Object.values(k8s)) expect(podEnv(objects, 'gateway').OPERATOR_SECRET?.length).toBeGreaterThanOrEqual(32)
    expect(composeEnv('gateway').OPERATOR_SECRET?.length).toBeGreaterThanOrEqual(32)
  })
})
