import { parseArgs, type ParseArgsConfig } from 'node:util'

export type Env = Record<string, string | undefined>
export type Action = { describe: string; run: (args: string[], env: Env) => Promise<number> }

/** A command line that cannot be carried out as given: the action prints why and exits 2. */
export class UsageError extends Error {}

/** node:util parseArgs, strict: an unknown flag or a missing value is a UsageError, never ignored. */
export function parseOptions<const O extends NonNullable<ParseArgsConfig['options']>, const P extends boolean = false>(
  args: string[],
  options: O,
  allowPositionals?: P,
): ReturnType<typeof parseArgs<{ options: O; allowPositionals: P; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: (allowPositionals ?? false) as P, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** Runs an action's work; a UsageError becomes its message on stderr and exit code 2. */
export async function usageErrorsExit2(work: () => number | Promise<number>): Promise<number> {
  try {
    return await work()
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`ops: ${err.message}`)
    return 2
  }
}

/** Who the operator audit log names for a change made with `npm run ops`: OPERATOR_NAME, else the shell's user. */
export function operatorName(env: Env): string {
  return `${env.OPERATOR_NAME ?? env.USER ?? 'unknown'} (ops cli)`
}
