/**
 * Statements that make a migration non-additive: after them the previous release no longer runs on
 * the newer schema (a table or column it reads is gone or renamed, or a column holds less). Rolling
 * back is then a restore, not a redeploy, so such a change ships in two releases (stop using it, then
 * drop it).
 */
const RULES: { name: string; pattern: RegExp }[] = [
  { name: 'DROP TABLE', pattern: /\bDROP\s+TABLE\b/i },
  { name: 'DROP DATABASE', pattern: /\bDROP\s+(DATABASE|SCHEMA)\b/i },
  // ALTER TABLE t DROP [COLUMN] c, DROP PRIMARY KEY; dropping an index, a foreign key or a check only loosens.
  { name: 'DROP COLUMN', pattern: /\bALTER\s+TABLE\b[^;]*\bDROP\s+(?!INDEX\b|KEY\b|FOREIGN\b|CONSTRAINT\b|CHECK\b)(COLUMN\s+)?[`\w]/i },
  { name: 'RENAME', pattern: /\bRENAME\b/i },
  { name: 'MODIFY COLUMN', pattern: /\bMODIFY\b/i },
  { name: 'CHANGE COLUMN', pattern: /\bCHANGE\b/i },
  { name: 'TRUNCATE', pattern: /\bTRUNCATE\b/i },
  // CONVERT TO another collation of utf8mb4 keeps every value; another character set may not.
  { name: 'CONVERT CHARACTER SET', pattern: /\bCONVERT\s+TO\s+CHARACTER\s+SET\s+(?!utf8mb4\b)/i },
]

/** What in `sql` is not additive, by rule name (comments and string literals ignored). */
export function nonAdditiveChanges(sql: string): string[] {
  const code = sql
    .replace(/--[^\n]*|#[^\n]*/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
  const found: string[] = []
  for (const statement of code.split(';')) {
    for (const rule of RULES) if (rule.pattern.test(statement) && !found.includes(rule.name)) found.push(rule.name)
  }
  return found
}
