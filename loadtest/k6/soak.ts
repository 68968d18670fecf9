// k6 run -e AUTH_JWT_SECRET=... [-e RATE=20 -e DURATION=1800] loadtest/k6/soak.ts
import { browseOnce, buy, leave, newFan, optionsFor, waitInLine } from './lib.ts'
import { soak } from '../src/scenarios.ts'

const scenario = soak({ rate: Number(__ENV.RATE ?? 20), durationSeconds: Number(__ENV.DURATION ?? 1_800) })
export const options = optionsFor(scenario)

export default function (): void {
  if (Math.random() < 0.5) return browseOnce(scenario)
  const fan = newFan(scenario)
  const active = waitInLine(scenario, fan)
  if (active && !buy(scenario, fan, active)) leave(fan, active)
}
