import type { Cache } from './ports.js'

export interface CachedReaderOptions {
  cache: Cache
  /**
   * How long a process waits for another one filling the same cold key before asking the database
   * itself. Short on purpose: a lease holder that lost Redis after taking the lease (3.3.1) never
   * fills the key, and every reader of it would wait this long until the lease expires.
   */
  fillWaitMs?: number
  pollMs?: number
  onCacheError?: (err: unknown) => void
}

/** Milliseconds, or a function of the loaded value (e.g. a shorter life for "not found"). */
export type Ttl<T> = number | ((value: T) => number)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Cache-aside with single flight at two levels: in this process, callers of one key share one
 * promise; across processes, one lease holder fills a cold key while the others poll the cache.
 * Any cache failure (Redis down, slow) falls through to the loader: reads never fail because of it.
 */
export function createCachedReader({ cache, fillWaitMs = 250, pollMs = 20, onCacheError }: CachedReaderOptions) {
  const inFlight = new Map<string, Promise<unknown>>()

  async function fromCache<T>(key: string): Promise<{ hit: true; value: T } | { hit: false }> {
    const raw = await cache.get(key)
    return raw === null ? { hit: false } : { hit: true, value: JSON.parse(raw) as T }
  }

  async function loadAndFill<T>(key: string, ttl: Ttl<T>, load: () => Promise<T>): Promise<T> {
    const value = await load()
    await cache.set(key, JSON.stringify(value), typeof ttl === 'function' ? ttl(value) : ttl).catch((err: unknown) => onCacheError?.(err))
    return value
  }

  /** The cached value; else, when the cache fails, the loaded one (`done`); else a miss. */
  async function cachedOrLoaded<T>(key: string, load: () => Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
    try {
      const cached = await fromCache<T>(key)
      return cached.hit ? { done: true, value: cached.value } : { done: false }
    } catch (err) {
      onCacheError?.(err)
      return { done: true, value: await load() }
    }
  }

  async function readThrough<T>(key: string, ttl: Ttl<T>, load: () => Promise<T>): Promise<T> {
    const first = await cachedOrLoaded(key, load)
    if (first.done) return first.value
    let leased = false
    try {
      leased = await cache.tryLock(`lock:${key}`, Math.max(fillWaitMs * 4, 1_000))
    } catch (err) {
      onCacheError?.(err)
      return load()
    }
    if (!leased) {
      const deadline = Date.now() + fillWaitMs
      while (Date.now() < deadline) {
        await sleep(pollMs)
        const filled = await cachedOrLoaded(key, load)
        if (filled.done) return filled.value
      }
      // The holder is slow or gone: the value read now is as fresh as its would be, so it fills the key.
      return loadAndFill(key, ttl, load)
    }
    try {
      return await loadAndFill(key, ttl, load)
    } finally {
      await cache.unlock(`lock:${key}`).catch(() => undefined)
    }
  }

  return {
    read<T>(key: string, ttl: Ttl<T>, load: () => Promise<T>): Promise<T> {
      const pending = inFlight.get(key)
      if (pending) return pending as Promise<T>
      const p = readThrough(key, ttl, load).finally(() => inFlight.delete(key))
      inFlight.set(key, p)
      return p
    },
    /** Writes a value now (cache warming); false when the cache is unavailable. */
    async put<T>(key: string, value: T, ttlMs: number): Promise<boolean> {
      try {
        await cache.set(key, JSON.stringify(value), ttlMs)
        return true
      } catch (err) {
        onCacheError?.(err)
        return false
      }
    },
  }
}
export type CachedReader = ReturnType<typeof createCachedReader>
