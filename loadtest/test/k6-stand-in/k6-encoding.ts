import { Buffer } from 'node:buffer'

type Variant = 'std' | 'rawstd' | 'url' | 'rawurl'

export function b64encode(input: string | ArrayBuffer, encoding: Variant = 'std'): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)
  const padded = bytes.toString('base64')
  const url = encoding === 'url' || encoding === 'rawurl' ? padded.replace(/\+/g, '-').replace(/\//g, '_') : padded
  return encoding.startsWith('raw') ? url.replace(/=+$/, '') : url
}

export function b64decode(input: string, encoding: Variant = 'std', format?: 's'): string | ArrayBuffer {
  const bytes = Buffer.from(input, encoding === 'url' || encoding === 'rawurl' ? 'base64url' : 'base64')
  return format === 's' ? bytes.toString('utf8') : Uint8Array.from(bytes).buffer
}

export default { b64encode, b64decode }
