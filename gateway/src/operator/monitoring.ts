import { untraced } from '@tickets/shared/untraced'

/**
 * What the console asks the monitoring stack: the alerts Alertmanager says are firing, and the polls
 * per second Prometheus measured per concert. Either may be absent (not configured) or down; the
 * console then says which, instead of showing nothing.
 */
export type Reach<T> = { configured: false } | { configured: true; url: string; reachable: false; error: string } | { configured: true; url: string; reachable: true; value: T }

export interface FiringAlert {
  name: string
  severity: string | null
  summary: string | null
  /** The runbook section the rule names (`runbook_url`'s fragment), e.g. `slow-responses`. */
  runbookSection: string | null
  since: string | null
}

function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return untraced(async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`${res.status} ${res.statusText}`)
    return res.json()
  })
}

async function reach<T>(base: string | undefined, path: string, timeoutMs: number, decode: (body: unknown) => T): Promise<Reach<T>> {
  if (!base) return { configured: false }
  const url = base.replace(/\/$/, '')
  try {
    return { configured: true, url, reachable: true, value: decode(await getJson(`${url}${path}`, timeoutMs)) }
  } catch (err) {
    return { configured: true, url, reachable: false, error: (err as Error).message }
  }
}

interface AlertmanagerAlert {
  labels?: Record<string, string>
  annotations?: Record<string, string>
  startsAt?: string
  status?: { state?: string }
}

const sectionOf = (runbookUrl: string | undefined) => (runbookUrl?.includes('#') ? runbookUrl.slice(runbookUrl.indexOf('#') + 1) : null)

export function firingAlerts(alertmanagerUrl: string | undefined, timeoutMs: number): Promise<Reach<FiringAlert[]>> {
  return reach(alertmanagerUrl, '/api/v2/alerts?active=true&silenced=false&inhibited=false', timeoutMs, (body) =>
    (body as AlertmanagerAlert[])
      .filter((a) => (a.status?.state ?? 'active') === 'active')
      .map((a) => ({
        name: a.labels?.alertname ?? 'unnamed',
        severity: a.labels?.severity ?? null,
        summary: a.annotations?.summary ?? a.annotations?.description ?? null,
        runbookSection: sectionOf(a.annotations?.runbook_url),
        since: a.startsAt ?? null,
      })),
  )
}

interface PromVector {
  data?: { result?: { metric: Record<string, string>; value: [number, string] }[] }
}

/** Polls answered a second over the last minute, per concert, summed over every gateway and queue instance. */
export function pollsPerSecond(prometheusUrl: string | undefined, timeoutMs: number): Promise<Reach<Record<string, number>>> {
  const query = encodeURIComponent('sum by (concert) (rate(queue_polls_total[1m]))')
  return reach(prometheusUrl, `/api/v1/query?query=${query}`, timeoutMs, (body) =>
    Object.fromEntries(((body as PromVector).data?.result ?? []).map((r) => [r.metric.concert ?? '', Number(Number(r.value[1]).toFixed(2))])),
  )
}
