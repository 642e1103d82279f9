// A client stream: the client uploads a file as chunks from an async generator; the server's
// handler reads them as an Observable and answers once, with the size and SHA-256 of what it
// got. The server grants credit as its handler reads, so the generator is pulled only that far
// ahead: the upload never piles up in memory, on either side.
//   npx tsx examples/streaming/upload.ts --chunks 200 --chunk-kib 64
import { createHash } from 'node:crypto';
import { lastValueFrom, type Observable, reduce } from 'rxjs';
import { Client, SerializeType, Server } from '../../lib/index.js';
import { defineCommand, integerFlag, readCommandLine } from '../lib/cli.js';

const COMMAND = defineCommand({
  name: 'streaming/upload',
  run: 'npx tsx examples/streaming/upload.ts',
  summary: [
    'Serves Files.Upload on a loopback port, uploads CHUNKS chunks of KIB KiB from an async',
    'generator as one client stream, and checks that the server got every byte (size and',
    'SHA-256); exits 1 if not.',
  ].join('\n'),
  flags: {
    chunks: { type: 'string', value: 'N', default: '200', description: 'chunks to upload, 1 to 100000' },
    'chunk-kib': { type: 'string', value: 'KIB', default: '64', description: 'chunk size in KiB, 1 to 1024' },
  },
  examples: ['npx tsx examples/streaming/upload.ts --chunks 1000 --chunk-kib 4'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  chunks: integerFlag('--chunks', flags.chunks, 1, 100_000),
  chunkKib: integerFlag('--chunk-kib', flags['chunk-kib'], 1, 1_024),
}));

interface Received {
  readonly bytes: number;
  readonly sha256: string;
}

class Files {
  /** Reads the upload as it comes: one reply at the end. */
  Upload(chunks: Observable<Uint8Array>): Promise<Received> {
    return lastValueFrom(
      chunks.pipe(
        reduce(
          (state, chunk) => {
            state.hash.update(chunk);
            state.bytes += chunk.length;
            return state;
          },
          { hash: createHash('sha256'), bytes: 0 },
        ),
      ),
    ).then(({ hash, bytes }) => ({ bytes, sha256: hash.digest('hex') }));
  }
}

if (options !== undefined) {
  const server = new Server();
  server.register('Files', new Files());
  const address = await server.listen('tcp@127.0.0.1:0');
  console.log(`files service listening on ${address}`);
  // MsgPack carries bytes as bytes: each chunk goes on the wire as it is, with a few bytes of header.
  const client = new Client(address, { serializeType: SerializeType.MsgPack });

  const sent = createHash('sha256');
  let made = 0;
  const { chunks, chunkKib } = options;
  async function* file(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < chunks; i++) {
      const chunk = new Uint8Array(chunkKib * 1_024).fill(i % 251);
      sent.update(chunk);
      made++;
      yield chunk;
    }
  }
  const received = await client.call<Received>('Files', 'Upload', file(), { timeoutMs: 60_000 });
  const bytes = options.chunks * options.chunkKib * 1_024;
  console.log(`uploaded ${made} chunks, ${bytes} bytes`);
  console.log(`the server got ${received.bytes} bytes, sha256 ${received.sha256}`);
  await client.close();
  await server.shutdown({ graceMs: 1_000 });
  if (received.bytes !== bytes || received.sha256 !== sent.digest('hex')) {
    console.log('FAILED: the server did not get the file as sent');
    process.exitCode = 1;
  } else {
    console.log('ok: every byte arrived, in order');
  }
}
