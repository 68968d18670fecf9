import { parseArgs } from 'node:util'
import { signUserToken } from '@tickets/contracts/auth'
import { resolveJwtSecret } from './dev-secret.js'

const { values } = parseArgs({
  options: { user: { type: 'string', short: 'u' }, ttl: { type: 'string', default: '3600' } },
  allowPositionals: false,
})
if (!values.user || !/^[A-Za-z0-9_-]{1,64}$/.test(values.user)) {
  process.stderr.write('usage: npm run token -- --user <id> [--ttl seconds]   (id: 1-64 letters, digits, _ or -)\n')
  process.exit(2)
}
const token = await signUserToken({ secret: resolveJwtSecret(process.env), userId: values.user, ttlSeconds: Number(values.ttl) })
process.stdout.write(`${token}\n`)
