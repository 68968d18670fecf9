/**
 * Calls `expire` `ms` from now, but only after the event loop has read the I/O that arrived
 * meanwhile: the timer hands over to setImmediate, which runs after the loop's poll phase. A
 * deadline judged from the timer itself, after the loop was busy for longer than `ms`, rejected
 * answers that had arrived and sat unread (drill 3.1.3, a join storm on two cores). Returns the
 * cancel; `expire` may still run if the answer settles in the same turn, so it checks for that.
 */
export function afterIoDeadline(ms: number, expire: () => void): () => void {
  let immediate: NodeJS.Immediate | undefined
  const timer = setTimeout(() => {
    immediate = setImmediate(expire)
  }, ms)
  return () => {
    clearTimeout(timer)
    clearImmediate(immediate)
  }
}
