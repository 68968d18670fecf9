/**
 * What a drill started (throw-away servers, the services, Prometheus, the probe), stopped however the
 * drill ends: at its end, when it overruns its budget, on Ctrl-C or SIGTERM, or on a crash. Nothing
 * it started outlives it.
 */
interface Pending {
  what: string
  stop: () => Promise<void>
}

const pending = new Set<Pending>()
const STOP_TIMEOUT_MS = 30_000

/** Registers `stop`; the function returned runs it at most once (later calls wait for the first) and forgets it. */
export function stopLater(what: string, stop: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  const entry: Pending = {
    what,
    stop: () => {
      running ??= stop().finally(() => pending.delete(entry))
      return running
    },
  }
  pending.add(entry)
  return entry.stop
}

/** Stops everything still registered, side by side; what did not stop within the timeout is named. */
export async function stopAll(timeoutMs = STOP_TIMEOUT_MS): Promise<string[]> {
  const stuck: string[] = []
  await Promise.all(
    [...pending].map(async (p) => {
      const stopped = await Promise.race([
        p.stop().then(
          () => true,
          () => true,
        ),
        new Promise<false>((r) => setTimeout(() => r(false), timeoutMs).unref()),
      ])
      if (!stopped) stuck.push(p.what)
    }),
  )
  return stuck
}

/** Ctrl-C, SIGTERM, an uncaught exception or an unhandled rejection: stop everything, then exit. */
export function stopAllOnExit(log: (line: string) => void): void {
  let exiting = false
  const exit = (why: string, code: number) => {
    if (exiting) return
    exiting = true
    log(`drill: ${why}; stopping every server the drill started`)
    void stopAll().then((stuck) => {
      if (stuck.length > 0) log(`drill: did not stop within ${STOP_TIMEOUT_MS / 1000} s: ${stuck.join(', ')}`)
      process.exit(code)
    })
  }
  process.once('SIGINT', () => exit('interrupted (SIGINT)', 130))
  process.once('SIGTERM', () => exit('terminated (SIGTERM)', 143))
  process.on('uncaughtException', (err) => exit(`crashed: ${err.stack ?? err.message}`, 1))
  process.on('unhandledRejection', (err) => exit(`crashed: ${(err as Error)?.stack ?? String(err)}`, 1))
}
