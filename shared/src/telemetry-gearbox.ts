import { context, type ContextManager } from '@opentelemetry/api'
import { setTracingOn, tracingOn } from './tracing-gear.js'

export interface GearboxOptions {
  /** The collector's OTLP/HTTP traces URL; an empty export to it is the probe. */
  tracesUrl: string
  /** The context manager the SDK registered: paused with tracing, since it costs even when idle. */
  contextManager: ContextManager
  /** Unpatched while paused (their hooks stay, so a module loaded meanwhile is patched on resume). */
  instrumentations: { enable(): void; disable(): void }[]
  probeIntervalMs: number
  /** Consecutive failed exports before tracing pauses: one lost batch is not an outage. */
  failuresBeforePause?: number
  log: (level: 'info' | 'warn', msg: string) => void
}

/**
 * Pauses tracing when the collector stops taking spans and resumes it when a probe gets through.
 * Paused means no spans and no async context: the process runs as if tracing were off.
 */
export function createGearbox(opts: GearboxOptions) {
  const failuresBeforePause = opts.failuresBeforePause ?? 2
  let failures = 0
  let probeTimer: NodeJS.Timeout | undefined
  let stopped = false
  let announced = false

  function engage() {
    for (const i of opts.instrumentations) i.enable()
    opts.contextManager.enable()
    context.setGlobalContextManager(opts.contextManager)
    failures = 0
    setTracingOn(true)
  }

  function pause() {
    setTracingOn(false)
    // Unregisters the context manager and disables its AsyncLocalStorage: no hook on every promise.
    context.disable()
    for (const i of opts.instrumentations) i.disable()
    opts.log('warn', `OTLP collector not taking spans: tracing paused (correlation ids only), probing ${opts.tracesUrl} every ${opts.probeIntervalMs} ms`)
    announced = true
    scheduleProbe()
  }

  function scheduleProbe() {
    if (stopped) return
    probeTimer = setTimeout(() => void probe(), opts.probeIntervalMs)
    probeTimer.unref()
  }

  async function probe() {
    const ok = await fetch(opts.tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceSpans":[]}',
      signal: AbortSignal.timeout(2_000),
    }).then(
      (res) => res.ok,
      () => false,
    )
    if (stopped) return
    if (!ok) {
      if (!announced) opts.log('warn', `OTLP collector not reachable at ${opts.tracesUrl}: tracing paused (correlation ids only), probing every ${opts.probeIntervalMs} ms`)
      announced = true
      return scheduleProbe()
    }
    engage()
    announced = false
    opts.log('info', `OTLP collector reachable at ${opts.tracesUrl}: tracing on`)
  }

  return {
    /**
     * Called once the SDK has started and registered the context manager. Tracing starts paused and
     * engages when the first probe gets through: a process that traced even briefly into the void
     * keeps part of the cost after pausing (see docs/benchmarks.md), one that never did has none.
     */
    start() {
      setTracingOn(false)
      context.disable()
      for (const i of opts.instrumentations) i.disable()
      void probe()
    },
    exportSucceeded() {
      failures = 0
    },
    exportFailed() {
      failures++
      if (failures >= failuresBeforePause && tracingOn()) pause()
    },
    stop() {
      stopped = true
      clearTimeout(probeTimer)
      setTracingOn(false)
    },
  }
}

export type Gearbox = ReturnType<typeof createGearbox>
