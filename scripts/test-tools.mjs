// The tools `npm test` checks the deployment files with, starts its throw-away clusters from, and the
// browser the page tests drive, from Debian's packages: installed when a command is missing and we may
// (root, apt-get), otherwise each test that needs one says what to install (the browser tests are
// skipped without chromium).
import { spawnSync } from 'node:child_process'

/** command -> the Debian package that ships it */
export const TEST_TOOLS = {
  promtool: 'prometheus',
  prometheus: 'prometheus',
  amtool: 'prometheus-alertmanager',
  'docker-compose': 'docker-compose',
  chromium: 'chromium',
  // Redis Cluster and Sentinel (redis-cli --cluster create), MariaDB replica and Galera tests.
  'redis-cli': 'redis-tools',
  rsync: 'rsync',
  '/usr/lib/galera/libgalera_smm.so': 'galera-4',
}

export const hasCommand = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

/** Installs the packages of the missing commands in one apt-get run; returns the commands still missing. */
export function ensureTestTools(commands = Object.keys(TEST_TOOLS)) {
  const missing = commands.filter((bin) => !hasCommand(bin))
  if (missing.length === 0) return []
  const packages = [...new Set(missing.map((bin) => TEST_TOOLS[bin]))]
  if (process.getuid?.() === 0 && hasCommand('apt-get')) {
    console.log(`installing what the tests need: apt-get install ${packages.join(' ')}...`)
    spawnSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(' ')} >/dev/null`], { stdio: 'inherit' })
  }
  const still = missing.filter((bin) => !hasCommand(bin))
  if (still.length)
    console.warn(`not installed: ${still.join(', ')} (apt-get install ${[...new Set(still.map((bin) => TEST_TOOLS[bin]))].join(' ')}); the tests that need them will say so`)
  return still
}
