// The variables compose.yaml insists on (`${NAME:?...}`), each given a throw-away value.
import { randomBytes } from 'node:crypto'

/** The variables compose.yaml refuses to run without, read from its text. */
export function requiredVariables(composeText) {
  return [...new Set([...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):\?/g)].map((m) => m[1]))]
}

/** Every required variable gets 32 random bytes in hex (64 characters: AUTH_JWT_SECRET wants 32+). */
export function throwAwaySecrets(composeText) {
  return Object.fromEntries(requiredVariables(composeText).map((name) => [name, randomBytes(32).toString('hex')]))
}
