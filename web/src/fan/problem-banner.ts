import { byId, setText } from '../common/dom.js'
import type { Problem } from '../common/problem.js'
import { plainWords } from './messages.js'

/** The page's one error banner: plain words, and the trace id to quote to support. */
export function showProblem(problem: Problem): void {
  setText('problem-text', plainWords(problem))
  setText('problem-trace', problem.traceId ?? '')
  byId('problem-ref').hidden = !problem.traceId
  byId('problem').hidden = false
}

export function clearProblem(): void {
  byId('problem').hidden = true
}
