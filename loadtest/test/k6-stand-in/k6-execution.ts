import { state, TestAborted, violation } from './state.js'

function duringIterations<T>(what: string, value: () => T): T {
  if (state.phase === 'init') violation(`${what} read in the init context: k6 has no scenario information there`)
  return value()
}

const scenario = {
  get name() {
    return duringIterations('exec.scenario.name', () => state.scenarioName)
  },
  get iterationInTest() {
    return duringIterations('exec.scenario.iterationInTest', () => state.iteration)
  },
  get iterationInInstance() {
    return duringIterations('exec.scenario.iterationInInstance', () => state.iteration)
  },
}

const vu = {
  get idInTest() {
    return duringIterations('exec.vu.idInTest', () => 1)
  },
  get iterationInScenario() {
    return duringIterations('exec.vu.iterationInScenario', () => state.iteration)
  },
}

const test = {
  abort(reason?: string): never {
    throw new TestAborted(reason ?? 'test aborted')
  },
}

export default { scenario, vu, test }
