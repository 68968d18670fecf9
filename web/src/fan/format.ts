const number = new Intl.NumberFormat('en-US')

export const count = (n: number) => number.format(n)
export const won = (n: number) => `${number.format(n)} won`

/** "less than a minute", "about 3 minutes", "about 2 to 4 minutes", "about 1 to 2 hours". */
export function waitRange([low, high]: [number, number]): string {
  if (high < 60) return 'less than a minute'
  const unit = high >= 2 * 3600 ? 3600 : 60
  const name = unit === 3600 ? 'hours' : 'minutes'
  const lo = Math.max(1, Math.round(low / unit))
  const hi = Math.max(lo, Math.round(high / unit))
  if (lo === hi) return `about ${lo} ${lo === 1 ? name.slice(0, -1) : name}`
  return `about ${lo} to ${hi} ${name}`
}

/** 4:07 */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

/** The local time of day, 20:14 */
export function timeOfDay(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })
}
