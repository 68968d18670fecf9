import { poolExhausted, slowQuery, slowResponses } from './incidents/database.js'
import { DEPENDENCY_INCIDENTS } from './incidents/dependency-down.js'
import type { Incident } from './incidents/incident.js'
import { instanceDown, tokenRouteErrors } from './incidents/instances.js'
import { trafficSpike } from './incidents/traffic-spike.js'

export type { Incident } from './incidents/incident.js'

export const INCIDENTS: Incident[] = [...DEPENDENCY_INCIDENTS, slowQuery, instanceDown, tokenRouteErrors, trafficSpike, slowResponses, poolExhausted]

export function findIncidents(name: string): Incident[] {
  if (name === 'all') return [...INCIDENTS].sort((a, b) => a.section.localeCompare(b.section))
  const found = INCIDENTS.filter((i) => i.id === name || i.section === name)
  return found
}
