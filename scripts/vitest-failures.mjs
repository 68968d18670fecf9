// Reads vitest's output as turbo relays it (each line under a "<package>:test: " prefix) and keeps
// the failing tests with the first error line vitest printed under each, so a red run is read
// from its tail. Plain Node, no dependency: npm test runs it before anything is built.

const FAIL = /^(?:(@?[\w./-]+):test:)?\s*FAIL\s+(\S+)(.*)$/
const ERROR = /^(?:@?[\w./-]+:test:)?\s*((?:\w*Error|Error)\b.*)$/
/** A file that failed as a whole (an import that threw): vitest names it again in brackets. */
const WHOLE_FILE = '(the file itself)'

export function createFailureLog() {
  /** `package file` -> its failing tests, each with the error printed under it. */
  const files = new Map()
  let awaiting = null
  return {
    /** One line of output, colours already stripped. */
    read(line) {
      const failure = FAIL.exec(line)
      if (failure) {
        const file = `${failure[1] ?? ''} ${failure[2]}`.trim()
        const rest = failure[3].trim()
        const name = rest.startsWith('>') ? rest.slice(1).trim() : WHOLE_FILE
        const tests = files.get(file) ?? []
        files.set(file, tests)
        awaiting = tests.find((t) => t.name === name)
        if (!awaiting) tests.push((awaiting = { name, error: '' }))
        return
      }
      const error = awaiting && ERROR.exec(line)
      if (!error) return
      awaiting.error ||= error[1].slice(0, 300)
      awaiting = null
    },
    get size() {
      return files.size
    },
    /** Each file, then each of its failing tests and the error under it, indented. */
    lines() {
      return [...files].flatMap(([file, tests]) => [file, ...tests.flatMap((t) => [`  > ${t.name}`, ...(t.error ? [`    ${t.error}`] : [])])])
    },
  }
}
