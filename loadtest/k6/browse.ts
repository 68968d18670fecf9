// k6 run [-e RATE=200 -e DURATION=60] loadtest/k6/browse.ts
import { browseOnce, optionsFor } from './lib.ts'
import { browse } from '../src/scenarios.ts'

const scenario = browse({ rate: Number(__ENV.RATE ?? 200), durationSeconds: Number(__ENV.DURATION ?? 60) })
export const options = optionsFor(scenario)

export default function (): void {
  browseOnce(scenario)
}
