import { Buffer } from 'node:buffer'
import { createHash, createHmac } from 'node:crypto'

type Encoding = 'hex' | 'base64' | 'base64url' | 'base64rawurl' | 'binary'

function encode(digest: Buffer, encoding: Encoding): string | ArrayBuffer {
  // k6: base64url keeps the padding, base64rawurl drops it (Node's base64url has none).
  if (encoding === 'base64url') return digest.toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
  if (encoding === 'base64rawurl') return digest.toString('base64url')
  if (encoding === 'binary') return Uint8Array.from(digest).buffer
  return digest.toString(encoding)
}

export function hmac(algorithm: string, secret: string, data: string, outputEncoding: Encoding): string | ArrayBuffer {
  return encode(createHmac(algorithm, secret).update(data).digest(), outputEncoding)
}

export function sha256(input: string, outputEncoding: Encoding): string | ArrayBuffer {
  return encode(createHash('sha256').update(input).digest(), outputEncoding)
}

export default { hmac, sha256 }
