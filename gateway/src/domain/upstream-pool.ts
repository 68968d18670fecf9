export interface Clock {
  now(): number
}

export interface UpstreamPool {
  readonly urls: readonly string[]
  /** The next instance in turn, skipping any that failed in the last `ejectMs`; `exclude` is never picked while another exists. */
  pick(exclude?: string): string
  /** Passive health: an instance that refused, reset or timed out is skipped for a while. */
  markFailed(url: string): void
  isEjected(url: string): boolean
}

/**
 * Round-robin over a service's instances with passive health checks. When every instance is
 * ejected it still answers one (in turn): a dead pool then fails fast, and a returning
 * instance is found by the next request instead of after a probe interval.
 */
export function createUpstreamPool(urls: readonly string[], opts: { ejectMs: number; clock?: Clock }): UpstreamPool {
  if (urls.length === 0) throw new Error('an upstream pool needs at least one URL')
  const clock = opts.clock ?? { now: () => Date.now() }
  const ejectedUntil = new Map<string, number>()
  let next = 0
  const isEjected = (url: string) => (ejectedUntil.get(url) ?? 0) > clock.now()

  return {
    urls,
    pick(exclude) {
      for (let i = 0; i < urls.length; i++) {
        const url = urls[(next + i) % urls.length]!
        if (url !== exclude && !isEjected(url)) {
          next = (next + i + 1) % urls.length
          return url
        }
      }
      const fallback = urls.length > 1 && urls[next % urls.length] === exclude ? urls[(next + 1) % urls.length]! : urls[next % urls.length]!
      next = (next + 1) % urls.length
      return fallback
    },
    markFailed(url) {
      if (opts.ejectMs > 0) ejectedUntil.set(url, clock.now() + opts.ejectMs)
    },
    isEjected,
  }
}
