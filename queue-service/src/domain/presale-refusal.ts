import { AppError } from '@tickets/contracts/errors'
import type { CodeRefusal } from '@tickets/contracts/line-commands'

/**
 * The problem for a presale code the line did not redeem. A wrong code and a code of another
 * concert read the same: the answer tells a guesser nothing about which codes exist.
 */
export function presaleRefusal(concertId: string, refusal: CodeRefusal): AppError {
  switch (refusal.why) {
    case 'WRONG':
      return new AppError('QUEUE_PRESALE_CODE_WRONG', `This code is not a presale code of concert ${concertId}`)
    case 'SPENT':
      return new AppError('QUEUE_PRESALE_CODE_SPENT', 'Every use of this presale code is taken; join without it')
    case 'OTHER':
      return new AppError('QUEUE_PRESALE_CODE_OTHER', `You joined concert ${concertId} with another presale code: join with that one`)
    case 'OUTSIDE': {
      const validFrom = new Date(refusal.from).toISOString()
      const validUntil = new Date(refusal.to).toISOString()
      return new AppError('QUEUE_PRESALE_CODE_EXPIRED', `This presale code is valid from ${validFrom} until ${validUntil}`, { extra: { validFrom, validUntil } })
    }
  }
}
