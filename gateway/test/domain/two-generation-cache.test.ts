import { describe, expect, it } from 'vitest'
import { TwoGenerationCache } from '../../src/domain/two-generation-cache.js'

describe('two-generation cache', () => {
  it('when more entries come than it holds, then it keeps at most max, the most recent ones', () => {
    const cache = new TwoGenerationCache<number, string>(10)
    for (let i = 0; i < 1_000; i++) cache.set(i, `v${i}`)
    expect(cache.size).toBeLessThanOrEqual(10)
    expect(cache.get(999)).toBe('v999')
    expect(cache.get(995)).toBe('v995')
    expect(cache.get(0)).toBeUndefined()
  })

  it('when an old entry is read, then it outlives the entries that were not', () => {
    const cache = new TwoGenerationCache<string, number>(4)
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('c', 3) // a and b are now the old generation
    expect(cache.get('a')).toBe(1) // back in the young one
    cache.set('d', 4)
    cache.set('e', 5)
    expect(cache.get('a')).toBe(1)
    expect(cache.get('b')).toBeUndefined()
  })

  it('when an entry is set again or deleted, then the newest value or nothing is read', () => {
    const cache = new TwoGenerationCache<string, number>(4)
    cache.set('a', 1)
    cache.set('a', 2)
    expect(cache.get('a')).toBe(2)
    expect(cache.size).toBe(1)
    cache.delete('a')
    expect(cache.get('a')).toBeUndefined()
  })
})
