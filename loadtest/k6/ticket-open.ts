// CONCERT_ID=$(npm run -s ops -- concert:create | jq -r .concertId)
// npm run ops -- warm-cache                      # the manual's D-1 cache warming (3.4.1)
// k6 run -e AUTH_JWT_SECRET=... -e CONCERT_ID=$CONCERT_ID [-e USERS=20000 -e RAMP=60] loadtest/k6/ticket-open.ts
//
// With a pre-queue (half the fans arrive before the opening, half after it), the opening set half a
// ramp ahead just before the run starts:
// npm run ops -- concert:open-at $CONCERT_ID +30s && k6 run -e PRE_QUEUE=1 -e RAMP=60 ... loadtest/k6/ticket-open.ts
// then `npm run ops -- draw:verify $CONCERT_ID` checks the draw the fans were placed by.
import { buy, leave, newFan, optionsFor, waitInLine } from './lib.ts'
import { ticketOpen, ticketOpenPreQueue } from '../src/scenarios.ts'

const shape = { users: Number(__ENV.USERS ?? 20_000), rampSeconds: Number(__ENV.RAMP ?? 60) }
const scenario = __ENV.PRE_QUEUE === '1' ? ticketOpenPreQueue(shape) : ticketOpen(shape)
export const options = optionsFor(scenario)

export default function (): void {
  const fan = newFan(scenario)
  const active = waitInLine(scenario, fan)
  if (active && !buy(scenario, fan, active)) leave(fan, active)
}
