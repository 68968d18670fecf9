export interface UpstreamPool {
  /** The service's name, for logs and metrics. */
  readonly service: string
  readonly urls: readonly string[]
  /** The next answering instance in turn other than `exclude`; undefined when none answers. */
  pick(exclude?: string): string | undefined
  /** Whether an instance other than `exclude` answers (without taking a turn). */
  hasAnswering(exclude?: string): boolean
  /** An instance that refused, reset or said it is closing: left out until a probe finds it answering. */
  markFailed(url: string): void
  /** What a probe found; true when this changed the instance's standing. */
  markProbed(url: string, answering: boolean): boolean
  isEjected(url: string): boolean
}

/**
 * Round-robin over a service's instances, leaving out those that stopped answering. A request
 * that meets a refusal and a probe that gets no answer both eject an instance; only a probe that
 * gets an answer takes it back. With
 * every instance out, there is nothing to pick: the caller answers at once instead of waiting
 * out a deadline on an instance known not to answer.
 */
export function createUpstreamPool(service: string, urls: readonly string[]): UpstreamPool {
  if (urls.length === 0) throw new Error('an upstream pool needs at least one URL')
  const ejected = new Set<string>()
  let next = 0

  return {
    service,
    urls,
    pick(exclude) {
      for (let i = 0; i < urls.length; i++) {
        const url = urls[(next + i) % urls.length]!
        if (url !== exclude && !ejected.has(url)) {
          next = (next + i + 1) % urls.length
          return url
        }
      }
      return undefined
    },
    hasAnswering: (exclude) => urls.some((url) => url !== exclude && !ejected.has(url)),
    markFailed(url) {
      ejected.add(url)
    },
    markProbed(url, answering) {
      const was = ejected.has(url)
      if (answering) ejected.delete(url)
      else ejected.add(url)
      return was === answering
    },
    isEjected: (url) => ejected.has(url),
  }
}
