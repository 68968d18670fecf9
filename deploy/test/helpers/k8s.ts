import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { deployDir, rel, requireTool, run } from './tools.js'

const require = createRequire(import.meta.url)

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> }

export const k8sDir = join(deployDir, 'k8s')

function kustomize(dir: string): K8sObject[] {
  requireTool('kubectl', 'kubectl (it carries kustomize)')
  const r = run('kubectl', ['kustomize', dir])
  if (r.status !== 0) throw new Error(`${rel(dir)}: kubectl kustomize failed: ${r.out}`)
  return parseAllDocuments(r.out)
    .map((d) => d.toJSON())
    .filter(Boolean)
}

/**
 * Renders an overlay, with optional components added as an operator would add them to its
 * kustomization (kustomize takes only relative paths, hence the relative path from a scratch folder).
 */
export function render(overlay: string, components: string[] = []): K8sObject[] {
  if (!components.length) return kustomize(join(k8sDir, 'overlays', overlay))
  const dir = mkdtempSync(join(tmpdir(), 'tickets-kustomize-'))
  try {
    const to = (path: string) => relative(dir, join(k8sDir, path))
    const kustomization = { resources: [to(`overlays/${overlay}`)], components: components.map((c) => to(`components/${c}`)) }
    writeFileSync(join(dir, 'kustomization.yaml'), JSON.stringify(kustomization))
    return kustomize(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const finder = (objects: K8sObject[]) => (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)

/** Every pod template (Deployments, StatefulSets, Jobs) with the name of the object that holds it. */
export function podTemplates(objects: K8sObject[]): { name: string; pod: any }[] {
  return objects.filter((o) => o.spec?.template?.spec?.containers).map((o) => ({ name: `${o.kind} ${o.metadata.name}`, pod: o.spec.template.spec }))
}

/** Validates one object against the Kubernetes OpenAPI schema of its apiVersion and kind. */
export async function validateObject(obj: K8sObject, where: string) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [undefined, obj.apiVersion]
  const modulePath = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`
  let mod: Record<string, new (data: unknown) => { validate(): void }>
  try {
    mod = require(modulePath)
  } catch {
    throw new Error(`${where}: ${obj.kind} ${obj.metadata?.name}: unknown apiVersion ${obj.apiVersion}`)
  }
  const Model = mod[obj.kind]
  if (!Model) throw new Error(`${where}: unknown kind ${obj.kind} in ${obj.apiVersion}`)
  try {
    new Model(obj).validate()
  } catch (err) {
    throw new Error(`${where}: ${obj.kind} ${obj.metadata?.name} is not valid: ${(err as Error).message}`)
  }
}
