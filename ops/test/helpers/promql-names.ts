/**
 * The metric names a PromQL expression reads: identifiers that are not functions, aggregation
 * operators, keywords, label names (in `{…}`, `by (…)`, `on (…)` …) or durations. Small on purpose:
 * it reads the expressions this repository writes, not all of PromQL.
 */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'atan2',
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'group',
  'inf',
  'nan',
])

export function metricNamesIn(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{?\w+\}?/g, ' ') // dashboard variables
  // label_values(metric, label): only the metric is a metric name.
  s = s.replace(/\blabel_values\s*\(\s*([A-Za-z_:][\w:]*)\s*,[^)]*\)/g, ' $1 ')
  const names = new Set<string>()
  for (const m of s.matchAll(/(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, name, call] = m
    if (!name || call || KEYWORDS.has(name.toLowerCase())) continue
    names.add(name)
  }
  return [...names]
}

/** Every series name a /metrics text (Prometheus or OpenMetrics) makes, families expanded to their samples. */
export function exportedNames(text: string): Set<string> {
  const names = new Set<string>()
  const suffixes: Record<string, string[]> = {
    counter: ['_total', '_created'],
    histogram: ['_bucket', '_sum', '_count', '_created'],
    gaugehistogram: ['_bucket', '_gsum', '_gcount'],
    summary: ['', '_sum', '_count', '_created'],
    info: ['_info'],
  }
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line)
    if (type) {
      const [, family, kind] = type as unknown as [string, string, string]
      // OpenMetrics names a counter's family without _total; the text format with it.
      const base = kind === 'counter' ? family.replace(/_total$/, '') : family
      for (const suffix of suffixes[kind] ?? ['']) names.add(base + suffix)
      if (kind === 'counter') names.add(family)
      continue
    }
    const sample = /^([A-Za-z_:][\w:]*)[{ ]/.exec(line)
    if (sample?.[1]) names.add(sample[1])
  }
  return names
}

/** `expr:` values of a Prometheus rule file: inline, or a `|` block of more-indented lines. */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!)
    if (!m) continue
    const [, indent, rest] = m as unknown as [string, string, string]
    if (!/^[|>][-+]?\s*$/.test(rest)) {
      out.push(rest)
      continue
    }
    const block: string[] = []
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > indent.length)) block.push(lines[++i]!)
    out.push(block.join('\n'))
  }
  return out
}

/** Metric names of the `series:` lines of a promtool test file. */
export function testSeriesNames(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*-\s*series:\s*['"]?([A-Za-z_:][\w:]*)/gm)].map((m) => m[1]!)
}
