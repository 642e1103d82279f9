import { open } from 'node:fs/promises';
import { UsageError } from './usage-error.js';

/**
 * Largest ARGS the command line reads (inline, from a file or from stdin): 4 MiB.
 *
 * @example
 * ```ts
 * await readArgs('@big.json', undefined, MAX_ARGS_BYTES);
 * ```
 */
export const MAX_ARGS_BYTES = 4 * 1024 * 1024;

/**
 * Where ARGS came from: `inline` text typed on the command line, or the `bytes` of a file
 * (`@path`) or of stdin (`@-`).
 *
 * @example
 * ```ts
 * const args: ArgsSource = { kind: 'inline', text: '{"First":"a"}' };
 * ```
 */
export type ArgsSource =
  | {
      /** Text typed on the command line. */
      readonly kind: 'inline';
      /** The text. */
      readonly text: string;
    }
  | {
      /** Read from a file or stdin. */
      readonly kind: 'bytes';
      /** The bytes read. */
      readonly bytes: Uint8Array;
      /** Where they came from, for messages (`file args.json`, `stdin`). */
      readonly from: string;
    };

/**
 * Reads the ARGS of a call: `@path` reads a file, `@-` reads stdin, anything else is the text
 * itself. At most `maxBytes` (default {@link MAX_ARGS_BYTES}) are read from any of them.
 *
 * @throws UsageError when the file cannot be read, stdin is not given, or ARGS is larger than
 *   `maxBytes` (nothing past the limit is read).
 * @example
 * ```ts
 * await readArgs('{"First":"budei"}', process.stdin); // { kind: 'inline', text: '{"First":"budei"}' }
 * await readArgs('@args.json', process.stdin);         // { kind: 'bytes', bytes: ..., from: 'file args.json' }
 * ```
 */
export async function readArgs(
  text: string,
  stdin: NodeJS.ReadableStream | undefined,
  maxBytes = MAX_ARGS_BYTES,
): Promise<ArgsSource> {
  if (!text.startsWith('@')) {
    if (Buffer.byteLength(text) > maxBytes) throw tooLarge('ARGS', maxBytes);
    return { kind: 'inline', text };
  }
  const path = text.slice(1);
  if (path === '-') {
    if (stdin === undefined) throw new UsageError('ARGS @- reads stdin, but there is no stdin');
    return { kind: 'bytes', bytes: await readStream(stdin, maxBytes), from: 'stdin' };
  }
  if (path === '') throw new UsageError('ARGS "@" names no file: write @path, or @- for stdin');
  return { kind: 'bytes', bytes: await readFileBounded(path, maxBytes), from: `file ${path}` };
}

async function readFileBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new UsageError(`cannot read ARGS from ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(`ARGS file ${path}`, maxBytes);
    }
    return buffer.subarray(0, length);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read ARGS from ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

function readStream(stream: NodeJS.ReadableStream, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const cleanup = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      length += bytes.length;
      if (length > maxBytes) {
        cleanup();
        stream.pause();
        reject(tooLarge('ARGS on stdin', maxBytes));
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, length));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new UsageError(`cannot read ARGS from stdin: ${error.message}`, { cause: error }));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

function tooLarge(what: string, maxBytes: number): UsageError {
  return new UsageError(`${what} is larger than ${maxBytes} bytes, the most the command line reads`);
}
