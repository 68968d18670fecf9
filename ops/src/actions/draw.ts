import { checkPublishedDraw } from '@tickets/contracts/draw-client'
import { isQueueId } from '@tickets/contracts/queue-token'
import { parseOptions, UsageError, usageErrorsExit2, type Action } from '../action.js'

const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:8080'

export const drawActions: Record<string, Action> = {
  'draw:verify': {
    describe: "recompute a concert's opening draw from what the public API published, and say whether it matches <concertId> [--gateway URL]",
    run: (args, env) =>
      usageErrorsExit2(async () => {
        const { values, positionals } = parseOptions(args, { gateway: { type: 'string' } }, true)
        const [concertId] = positionals
        if (!isQueueId(concertId) || positionals.length !== 1) throw new UsageError('usage: npm run ops -- draw:verify <concertId> [--gateway URL]')
        const gateway = values.gateway ?? env.GATEWAY_URL ?? DEFAULT_GATEWAY_URL
        const check = await checkPublishedDraw(gateway, concertId)
        if (!check) {
          console.error(`ops: the draw of concert ${concertId} is not made yet; its seed and order are published once it is`)
          return 1
        }
        const { info, ...result } = check
        console.log(JSON.stringify({ concertId, matches: check.ok, ...result, seedHash: info.seedHash, seed: info.seed, digest: info.digest, drawnAt: info.drawnAt }))
        return check.ok ? 0 : 1
      }),
  },
}
