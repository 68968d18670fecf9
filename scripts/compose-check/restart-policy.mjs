// A container's main process dies, and its restart policy starts it again.
//
// `podman kill` is not used to kill it: podman records that as a stop by the user and then no
// restart policy applies (unlike a crash). SIGKILL to the main process from the host is a crash.

/**
 * SIGKILLs `container`'s main process, then waits until podman has started it again (running, a
 * new start time). Returns the seconds from the kill to running again.
 */
export async function crashAndAwaitRestart(project, container, { deadlineMs = 90_000 } = {}) {
  const [pid, startedAt] = project.inspect(container, '{{.State.Pid}}|{{.State.StartedAt}}').split('|')
  if (!Number(pid)) throw new Error(`${container} is not running (pid ${pid})`)
  const killedAt = Date.now()
  process.kill(Number(pid), 'SIGKILL')
  for (;;) {
    const [state, now] = project.inspect(container, '{{.State.Status}}|{{.State.StartedAt}}').split('|')
    if (state === 'running' && now !== startedAt) return (Date.now() - killedAt) / 1000
    if (Date.now() - killedAt > deadlineMs) {
      throw new Error(`${container} was not restarted within ${deadlineMs / 1000} s of its process being killed (state ${state}):\n${project.logsOf(container)}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}
