import type { FastifyInstance } from 'fastify'

/**
 * Work a service runs beside its requests: an outbox relay, a sweeper, a consumer, a loop. A
 * `start…(deps)` function starts it; `stop()` ends it and resolves once the pass in flight is done.
 */
export interface BackgroundWork {
  stop(): Promise<void>
}

/**
 * Stops every piece of `work` in one preClose hook, the last started first: a consumer stops before
 * the relay that publishes what it wrote, and everything stops before onClose closes the pool, Redis
 * and NATS it uses. Entries left `undefined` are work the config turned off.
 */
export function stopBeforeClose(app: FastifyInstance, work: ReadonlyArray<BackgroundWork | undefined>): void {
  const started = work.filter((w): w is BackgroundWork => w !== undefined)
  app.addHook('preClose', async () => {
    for (const w of [...started].reverse()) await w.stop()
  })
}

export interface RepeatOptions {
  /** The pause between the end of one pass and the start of the next. */
  intervalMs: number
  /** The pause before the first pass; by default `intervalMs`. */
  firstDelayMs?: number
}

/**
 * Runs `pass` over and over, `intervalMs` after the previous pass ended, so two passes never overlap.
 * `pass` catches and logs its own failures (a rejection here would be unhandled); the next pass runs
 * anyway. A pass that loops may watch `stopping` to end early once stop() is called.
 */
export function repeat(pass: (stopping: AbortSignal) => Promise<unknown>, opts: RepeatOptions): BackgroundWork {
  const stopping = new AbortController()
  let timer: NodeJS.Timeout | undefined
  let running: Promise<unknown> | undefined

  function schedule(delayMs: number) {
    if (stopping.signal.aborted) return
    timer = setTimeout(() => {
      running = pass(stopping.signal).finally(() => {
        running = undefined
        schedule(opts.intervalMs)
      })
    }, delayMs)
    timer.unref()
  }

  schedule(opts.firstDelayMs ?? opts.intervalMs)
  return {
    async stop() {
      stopping.abort()
      clearTimeout(timer)
      await running
    },
  }
}
