export interface RankedPair {
  /** Order of joining the line (the waiting token's `seq`). */
  join: number
  /** Order of admission; equal values were admitted in the same admission step. */
  admission: number
}

export interface KendallTau {
  /** (concordant - discordant) / (concordant + discordant); null when no pair was admitted in different steps. */
  tau: number | null
  concordant: number
  discordant: number
}

function countInversions(values: number[]): number {
  let inversions = 0
  let from = values
  let to = new Array<number>(values.length)
  for (let width = 1; width < values.length; width *= 2) {
    for (let lo = 0; lo < values.length; lo += 2 * width) {
      const mid = Math.min(lo + width, values.length)
      const hi = Math.min(lo + 2 * width, values.length)
      let i = lo
      let j = mid
      let k = lo
      while (i < mid && j < hi) {
        // Equal values are not inverted: they stay in order (left first).
        if (from[i]! <= from[j]!) to[k++] = from[i++]!
        else {
          inversions += mid - i
          to[k++] = from[j++]!
        }
      }
      while (i < mid) to[k++] = from[i++]!
      while (j < hi) to[k++] = from[j++]!
    }
    ;[from, to] = [to, from]
  }
  return inversions
}

function tiedPairs(sortedKeys: string[] | number[]): number {
  let pairs = 0
  let run = 1
  for (let i = 1; i <= sortedKeys.length; i++) {
    if (i < sortedKeys.length && sortedKeys[i] === sortedKeys[i - 1]) run++
    else {
      pairs += (run * (run - 1)) / 2
      run = 1
    }
  }
  return pairs
}

/**
 * Kendall's tau between join order and admission order over the pairs admitted in different steps
 * (pairs tied in admission count neither way), by a merge-sort inversion count: O(n log n).
 * Sorted by admission then join, a pair inverted in join order is exactly a discordant pair;
 * pairs tied in join order but not in admission are neither.
 */
export function kendallTau(points: RankedPair[]): KendallTau {
  const sorted = [...points].sort((a, b) => a.admission - b.admission || a.join - b.join)
  const n = sorted.length
  const discordant = countInversions(sorted.map((p) => p.join))
  const tiedInAdmission = tiedPairs(sorted.map((p) => p.admission))
  const tiedInBoth = tiedPairs(sorted.map((p) => `${p.admission}:${p.join}`))
  const tiedInJoin = tiedPairs(sorted.map((p) => p.join).sort((a, b) => a - b))
  const untied = (n < 2 ? 0 : (n * (n - 1)) / 2) - tiedInAdmission
  const concordant = untied - discordant - (tiedInJoin - tiedInBoth)
  const compared = concordant + discordant
  return { tau: compared === 0 ? null : (concordant - discordant) / compared, concordant, discordant }
}
