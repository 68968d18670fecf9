import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

/** `npm run ops -- <args>` as the npm script runs it (node ops/dist/cli.js): its exit code and output. */
export async function runOps(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { env })
    return { code: 0, stdout, out: stdout + stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, out: e.stdout + e.stderr }
  }
}
