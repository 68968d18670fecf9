import { verifyDraw } from '@tickets/contracts/draw'
import { fetchPublishedDraw } from '@tickets/contracts/draw-client'

/** The opening's draw as its public routes publish it, recomputed: what the report checks the admitted order against. */
export interface PublishedOrder {
  /** The order follows from the revealed seed and the entries, and the seed from its committed hash. */
  recomputed: boolean
  problems: string[]
  /** The arrival number of the first drawn place. */
  firstArrivalNumber: number | null
  /** Entry ids in drawn order. */
  order: readonly string[]
}

/** Reads the draw through the gateway, as any fan could; null while it is not made. */
export async function readPublishedDraw(baseUrl: string, concertId: string): Promise<PublishedOrder | null> {
  const { info, order } = await fetchPublishedDraw(baseUrl, concertId)
  if (order === null || info.seed === undefined || info.digest === undefined) return null
  const check = verifyDraw({ seedHash: info.seedHash, seed: info.seed, digest: info.digest, order })
  const problems: string[] = [...check.problems]
  if (order.length !== info.entries) problems.push('ENTRY_COUNT_DOES_NOT_MATCH')
  return { recomputed: problems.length === 0, problems, firstArrivalNumber: info.firstArrivalNumber ?? null, order }
}
