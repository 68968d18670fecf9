/**
 * A bounded cache in two generations: entries go into the young one; when it is full it becomes the
 * old one and the previous old one is dropped whole. A hit in the old generation moves the entry
 * back into the young one. At most `max` entries, every operation O(1).
 *
 * Evicting the oldest entry of one Map instead (`map.delete(map.keys().next().value)`) looks O(1)
 * but is not in V8: deleted entries stay in the table until it is rebuilt, and every iterator from
 * the front walks past them, a few thousand steps per insert once the map is full.
 */
export class TwoGenerationCache<K, V> {
  private young = new Map<K, V>()
  private old = new Map<K, V>()
  private readonly generationMax: number

  constructor(max: number) {
    this.generationMax = Math.max(1, Math.floor(max / 2))
  }

  get(key: K): V | undefined {
    const value = this.young.get(key)
    if (value !== undefined) return value
    const aged = this.old.get(key)
    if (aged !== undefined) {
      this.old.delete(key)
      this.set(key, aged)
    }
    return aged
  }

  set(key: K, value: V): void {
    if (!this.young.has(key) && this.young.size >= this.generationMax) {
      this.old = this.young
      this.young = new Map()
    }
    this.young.set(key, value)
  }

  delete(key: K): void {
    this.young.delete(key)
    this.old.delete(key)
  }

  get size(): number {
    return this.young.size + this.old.size
  }
}
