// k6 run -e AUTH_JWT_SECRET=... [-e RATE=2000 -e DURATION=60] loadtest/k6/token-storm.ts
import { leave, newFan, optionsFor, waitInLine } from './lib.ts'
import { tokenStorm } from '../src/scenarios.ts'

const scenario = tokenStorm({ rate: Number(__ENV.RATE ?? 2_000), durationSeconds: Number(__ENV.DURATION ?? 60) })
export const options = optionsFor(scenario)

export default function (): void {
  const fan = newFan(scenario)
  const active = waitInLine(scenario, fan)
  if (active) leave(fan, active)
}
