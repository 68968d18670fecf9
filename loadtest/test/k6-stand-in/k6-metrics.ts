import { state, violation, type MetricType } from './state.js'

// k6's rule for metric names (longer or other names are refused).
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/

function declare(type: MetricType, name: string, isTime: boolean) {
  if (state.phase !== 'init') violation(`${type} "${name}" created during ${state.phase}: k6 creates metrics only in the init context`)
  if (!NAME.test(name)) violation(`"${name}" is not a valid k6 metric name`)
  const known = state.metrics.get(name)
  if (known && known.type !== type) violation(`metric "${name}" is already a ${known.type}`)
  const metric = known ?? { type, isTime, samples: [] }
  state.metrics.set(name, metric)
  return metric
}

class Metric {
  readonly #samples: { value: number; tags: Record<string, string> }[]
  constructor(
    readonly name: string,
    type: MetricType,
    isTime = false,
  ) {
    this.#samples = declare(type, name, isTime).samples
  }

  add(value: number | boolean, tags: Record<string, string> = {}): void {
    if (state.phase === 'init') violation(`${this.name}.add() in the init context`)
    const n = typeof value === 'boolean' ? Number(value) : value
    if (typeof n !== 'number' || Number.isNaN(n)) violation(`${this.name}.add(${String(value)}): not a number`)
    this.#samples.push({ value: n, tags })
  }
}

/** k6's metric class of one type: `new Counter(name, isTime?)`. */
function metricOf(type: MetricType) {
  return class extends Metric {
    constructor(name: string, isTime?: boolean) {
      super(name, type, isTime)
    }
  }
}

export const Counter = metricOf('Counter')
export const Gauge = metricOf('Gauge')
export const Rate = metricOf('Rate')
export const Trend = metricOf('Trend')
