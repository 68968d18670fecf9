import { readFileSync } from 'node:fs'

/**
 * A Redis Lua script declared by name: its text lives in `.lua` files, and what it takes and gives
 * is named here once. `keys` are KEYS[1..n] and `argv` ARGV[1..m], in order; `each` names the ARGV
 * that follow them once per item (a chunk of places, a list of holds).
 */
export interface LuaScript<K extends string = string, A extends string = string, E extends string = string, R extends ReplyShape = ReplyShape> {
  /** The command's name on a client: defined once, then run by EVALSHA (EVAL once after NOSCRIPT). */
  command: string
  /** The text Redis runs: each file after a newline, fragments of local functions first. */
  lua: string
  files: readonly string[]
  keys: readonly K[]
  argv: readonly A[]
  each: readonly E[]
  reply: R
}

/**
 * What a script returns: an array whose fields are named by position; an array whose first field is
 * a tag naming the fields after it; one of a few strings; or an integer (what it counts, in words).
 */
export type ReplyShape = readonly string[] | { readonly [tag: string]: readonly string[] } | { oneOf: readonly string[] } | { integer: string }

export type LuaArg = string | number | Buffer

/** The reply as the client hands it over. */
export type RawReply<R> = R extends { oneOf: readonly (infer V)[] } ? V : R extends { integer: string } ? number : string[]

/** An array reply by the names of its fields. */
export type Fields<F extends readonly string[]> = Record<F[number], string | undefined>

type Tags = { readonly [tag: string]: readonly string[] }
/** A tagged reply: its tag, then the fields declared for that tag. */
export type Tagged<T extends Tags> = { [G in keyof T & string]: { tag: G } & Fields<T[G]> }[keyof T & string]

const files = new Map<string, string>()

function readLua(url: URL): string {
  let text = files.get(url.href)
  if (text === undefined) {
    text = readFileSync(url, 'utf8')
    files.set(url.href, text)
  }
  return text
}

/** Declares a script of the `.lua` files in `dir`, read now (each file once per process). */
export function luaScript<const K extends string, const A extends string, const R extends ReplyShape, const E extends string = never>(
  dir: URL,
  d: { command: string; files: readonly string[]; keys: readonly K[]; argv: readonly A[]; each?: readonly E[]; reply: R },
): LuaScript<K, A, E, R> {
  const lua = d.files.map((file) => `\n${readLua(new URL(file, dir))}`).join('')
  return { ...d, each: d.each ?? [], lua }
}

const highest = (lua: string, table: string) => Math.max(0, ...[...lua.matchAll(new RegExp(`${table}\\[(\\d+)\\]`, 'g'))].map((m) => Number(m[1])))
const byVariable = (lua: string, table: string) => new RegExp(`${table}\\[[a-z_]|ipairs\\(${table}\\)`).test(lua)

/**
 * Where a declaration disagrees with its Lua, for tests: the highest KEYS[n] must be the key count
 * (or below it, when the script picks keys by a variable), the highest ARGV[n] the argument count,
 * and a repeated tail is declared exactly when the script reads ARGV by a variable.
 */
export function declarationProblems(script: LuaScript): string[] {
  const problems: string[] = []
  const keys = highest(script.lua, 'KEYS')
  const keysOk = byVariable(script.lua, 'KEYS') ? keys <= script.keys.length : keys === script.keys.length
  if (!keysOk) problems.push(`uses KEYS[${keys}], declares ${script.keys.length} keys`)
  const argv = highest(script.lua, 'ARGV')
  if (argv !== script.argv.length) problems.push(`uses ARGV[${argv}], declares ${script.argv.length} arguments`)
  if (byVariable(script.lua, 'ARGV') !== script.each.length > 0) problems.push('a repeated tail is declared but not read, or read but not declared')
  return problems
}

/** The 1-based KEYS index of a key, for a script that picks one of its keys by an argument. */
export function keyNumber<K extends string>(script: LuaScript<K, string, string>, key: K): number {
  return script.keys.indexOf(key) + 1
}

export function fieldsOf<const F extends readonly string[]>(names: F, reply: readonly string[], from = 0): Fields<F> {
  const out: Record<string, string | undefined> = {}
  for (let i = 0; i < names.length; i++) out[names[i]!] = reply[from + i]
  return out as Fields<F>
}

/** A tagged reply by its names, or undefined for a tag the declaration does not know. */
export function taggedOf<const T extends Tags>(shapes: T, reply: readonly string[]): Tagged<T> | undefined {
  const tag = reply[0]
  if (tag === undefined || !Object.hasOwn(shapes, tag)) return undefined
  return { ...fieldsOf(shapes[tag]!, reply, 1), tag } as Tagged<T>
}

/** The part of an ioredis client (or Cluster) that runs scripts. */
export interface ScriptHost {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void
}

type Command = (...args: LuaArg[]) => Promise<unknown>

/**
 * Runs declared scripts on a client, with keys and arguments by name. The scripts are defined on the
 * client here, before any call: an auto-pipeline already under way copies only the commands the
 * client had when it began.
 */
export function scriptRunner(redis: ScriptHost, scripts: readonly LuaScript[]) {
  for (const s of scripts) if (!(s.command in redis)) redis.defineCommand(s.command, { numberOfKeys: s.keys.length, lua: s.lua })
  const commands = redis as unknown as Record<string, Command | undefined>
  return function run<K extends string, A extends string, E extends string, R extends ReplyShape>(
    script: LuaScript<K, A, E, R>,
    keys: Record<K, string>,
    argv: Record<A, LuaArg>,
    items: readonly Record<E, LuaArg>[] = [],
  ): Promise<RawReply<R>> {
    const command = commands[script.command]
    if (!command) throw new Error(`${script.command} is not defined on this client: list it where its runner is made`)
    const args: LuaArg[] = script.keys.map((k) => keys[k])
    for (const a of script.argv) args.push(argv[a])
    for (const item of items) for (const e of script.each) args.push(item[e])
    return command.apply(redis, args) as Promise<RawReply<R>>
  }
}
