// deploy/compose/compose.yaml run by podman-compose under a project name of its own. Everything
// podman-compose prints goes to a log file (it echoes the merged file, secrets included, and every
// podman command); errors carry the end of it.
import { spawnSync } from 'node:child_process'
import { appendFileSync } from 'node:fs'

const tail = (text, lines = 25) => text.trim().split('\n').slice(-lines).join('\n')

export function createComposeProject({ name, files, env, logFile }) {
  const label = `io.podman.compose.project=${name}`
  const record = (cmd, args, r) => appendFileSync(logFile, `\n$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`)

  function podman(args, { check = true, timeoutMs = 120_000 } = {}) {
    const r = spawnSync('podman', args, { env, encoding: 'utf8', timeout: timeoutMs })
    record('podman', args, r)
    if (check && r.status !== 0) throw new Error(`podman ${args[0]} failed (exit ${r.status ?? r.signal}): ${tail(r.stderr || r.stdout, 5)}`)
    return r
  }

  // podman-compose 1.0.3 exits 0 even when a podman command it runs fails: callers check the
  // containers' state afterwards instead of its exit code.
  function compose(args, { timeoutMs = 600_000 } = {}) {
    const full = ['-p', name, ...files.flatMap((f) => ['-f', f]), ...args]
    const r = spawnSync('podman-compose', full, { env, encoding: 'utf8', timeout: timeoutMs })
    record('podman-compose', full, r)
    if (r.status !== 0) throw new Error(`podman-compose ${args.join(' ')} failed (exit ${r.status ?? r.signal}):\n${tail(r.stdout + r.stderr)}`)
    return r
  }

  /** The project's containers of one service, by name, in order of their number. */
  function containersOf(service) {
    const r = podman(['ps', '-a', '--filter', `label=${label}`, '--filter', `label=com.docker.compose.service=${service}`, '--format', '{{.Names}}'])
    return r.stdout.split('\n').filter(Boolean).sort()
  }

  function inspect(container, format) {
    return podman(['inspect', '--format', format, container]).stdout.trim()
  }

  function logsOf(container, lines = 20) {
    const r = podman(['logs', '--tail', String(lines), container], { check: false })
    return tail(`${r.stdout}${r.stderr}`, lines)
  }

  /**
   * Runs `test` (a compose health check's argv, see healthCheckArgv) in the container until it
   * passes. Not `podman healthcheck run`: podman-compose 1.0.3 hands podman a CMD-form test as one
   * shell word, so any test with quotes or parentheses (the services' `node -e "fetch(...)"`)
   * fails there for ever; and podman runs its checks from systemd timers, which a machine without
   * systemd never fires.
   */
  async function waitHealthy(container, test, { deadlineMs = 180_000 } = {}) {
    const started = Date.now()
    for (;;) {
      if (podman(['exec', container, ...test], { check: false, timeoutMs: 30_000 }).status === 0) return (Date.now() - started) / 1000
      const state = inspect(container, '{{.State.Status}}')
      if (Date.now() - started > deadlineMs || state === 'exited') {
        throw new Error(`${container} is not healthy after ${((Date.now() - started) / 1000).toFixed(0)} s (${state}):\n${logsOf(container)}`)
      }
      await new Promise((r) => setTimeout(r, 1_000))
    }
  }

  /** Waits for a one-shot container to end; throws with its logs unless it exited 0. */
  function waitSucceeded(container) {
    const code = podman(['wait', container], { timeoutMs: 600_000 }).stdout.trim()
    if (code !== '0') throw new Error(`${container} exited ${code}:\n${logsOf(container)}`)
  }

  /**
   * `run` of a service with the given arguments, the service's own image, environment and network.
   * podman-compose 1.0.3 does not pass the container's exit code on, so the container is named,
   * kept until its code is read, then removed.
   */
  function run(service, args) {
    const container = `${name}_${service}_run`
    podman(['rm', '-f', container], { check: false })
    compose(['run', '-T', '--no-deps', '--name', container, service, ...args])
    try {
      const code = inspect(container, '{{.State.ExitCode}}')
      const output = logsOf(container, 40)
      if (code !== '0') throw new Error(`${service} ${args.join(' ')} exited ${code}:\n${output}`)
      return output
    } finally {
      podman(['rm', '-f', container], { check: false })
    }
  }

  /**
   * Starts container `number` of `service` from the service's own definition (image, environment,
   * published ports, network alias, restart policy, health check), alone: what `up -d --no-deps`
   * does, and number 2 is what `up --scale` adds. podman-compose 1.0.3 cannot do either: its `up`
   * starts every dependency again, one-shot jobs included, and it ignores `--scale` (with
   * `deploy.replicas` it fails on the second replica of a service with a list-form health check).
   * Returns the container's name.
   */
  function startContainer(service, number = 1) {
    const container = `${name}_${service}_${number}`
    compose(['run', '-d', '-T', '--no-deps', '--service-ports', '--name', container, service])
    return container
  }

  /** Everything the project made goes: containers, volumes, the network. Never throws. */
  function down() {
    try {
      compose(['down', '-v', '-t', '15'])
    } catch {
      // the sweep below removes what down left
    }
    const ids = (kind) =>
      podman([kind, 'ls', ...(kind === 'container' ? ['-a'] : []), '--filter', `label=${label}`, '-q'], { check: false })
        .stdout.split('\n')
        .filter(Boolean)
    const containers = ids('container')
    if (containers.length) podman(['rm', '-f', '-t', '5', ...containers], { check: false })
    const volumes = ids('volume')
    if (volumes.length) podman(['volume', 'rm', '-f', ...volumes], { check: false })
    podman(['network', 'rm', '-f', `${name}_default`], { check: false })
  }

  return { name, compose, podman, containersOf, inspect, logsOf, waitHealthy, waitSucceeded, run, startContainer, down }
}

/** A compose `healthcheck.test` as the argv to run in the container. */
export function healthCheckArgv(test) {
  if (typeof test === 'string') return ['/bin/sh', '-c', test]
  const [kind, ...rest] = test ?? []
  if (kind === 'CMD') return rest
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')]
  throw new Error(`no health check to run (test: ${JSON.stringify(test)})`)
}
