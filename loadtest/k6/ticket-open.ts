// CONCERT_ID=$(npm run -s ops -- concert:create | jq -r .concertId)
// npm run ops -- warm-cache                      # the manual's D-1 cache warming (3.4.1)
// k6 run -e AUTH_JWT_SECRET=... -e CONCERT_ID=$CONCERT_ID [-e USERS=20000 -e RAMP=60] loadtest/k6/ticket-open.ts
import { buy, leave, newFan, optionsFor, waitInLine } from './lib.ts'
import { ticketOpen } from '../src/scenarios.ts'

const scenario = ticketOpen({ users: Number(__ENV.USERS ?? 20_000), rampSeconds: Number(__ENV.RAMP ?? 60) })
export const options = optionsFor(scenario)

export default function (): void {
  const fan = newFan(scenario)
  const active = waitInLine(scenario, fan)
  if (active && !buy(scenario, fan, active)) leave(fan, active)
}
