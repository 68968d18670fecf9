import type { MetricType } from './state.js'

/** k6's built-in metrics (HTTP and execution), by type. */
export const BUILTIN_METRICS: Record<string, MetricType> = {
  vus: 'Gauge',
  vus_max: 'Gauge',
  iterations: 'Counter',
  iteration_duration: 'Trend',
  dropped_iterations: 'Counter',
  data_received: 'Counter',
  data_sent: 'Counter',
  checks: 'Rate',
  http_reqs: 'Counter',
  http_req_blocked: 'Trend',
  http_req_connecting: 'Trend',
  http_req_tls_handshaking: 'Trend',
  http_req_sending: 'Trend',
  http_req_waiting: 'Trend',
  http_req_receiving: 'Trend',
  http_req_duration: 'Trend',
  http_req_failed: 'Rate',
}

const AGGREGATIONS: Record<MetricType, RegExp> = {
  Counter: /^(count|rate)$/,
  Gauge: /^value$/,
  Rate: /^rate$/,
  Trend: /^(avg|min|max|med|p\(\d+(\.\d+)?\))$/,
}

const KEY = /^([a-zA-Z_][a-zA-Z0-9_]*)(?:\{([^{}]*)\})?$/
const SELECTOR = /^\s*[^:,\s]+\s*:\s*[^,]+$/
const EXPRESSION = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)\s*(<=|>=|<|>|===|==|!=)\s*-?\d+(?:\.\d+)?(?:e[+-]?\d+)?\s*$/

/** What k6 refuses before the test starts: thresholds on unknown metrics or with the wrong aggregation. */
export function thresholdProblems(thresholds: Record<string, unknown> | undefined, declared: Map<string, { type: MetricType }>): string[] {
  const problems: string[] = []
  for (const [key, value] of Object.entries(thresholds ?? {})) {
    const m = KEY.exec(key)
    if (!m) {
      problems.push(`threshold "${key}" is not a metric name with an optional {tag:value} selector`)
      continue
    }
    const [, name, selectors] = m as unknown as [string, string, string | undefined]
    if (selectors !== undefined && !selectors.split(',').every((s) => SELECTOR.test(s))) problems.push(`threshold "${key}": bad tag selector`)
    const type = declared.get(name)?.type ?? BUILTIN_METRICS[name]
    if (!type) {
      problems.push(`threshold on "${name}", a metric that was not declared in the init context (k6 aborts the test)`)
      continue
    }
    const expressions = Array.isArray(value) ? value : [value]
    for (const entry of expressions) {
      const source = typeof entry === 'string' ? entry : (entry as { threshold?: unknown } | null)?.threshold
      const e = typeof source === 'string' ? EXPRESSION.exec(source) : null
      if (!e) problems.push(`threshold "${key}": "${String(source)}" is not a k6 threshold expression`)
      else if (!AGGREGATIONS[type].test(e[1]!)) problems.push(`threshold "${key}": ${e[1]} does not apply to a ${type}`)
    }
  }
  return problems
}
