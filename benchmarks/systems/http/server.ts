// The HTTP/1.1 server of every workload: node:http, keep-alive, one POST route per workload
// (contract in benchmarks/harness/system.ts). message1 and echo64 are JSON (message1 parsed, given
// the rpcx benchmark's server reply, stringified); big256k is an octet-stream echo; big256k-gzip
// gunzips the request and gzips the reply (node:zlib's callback form, on libuv's thread pool; at
// phobos's default level, 1).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { runServerProcess } from '../../harness/server-process.js';
import { phobos } from '../../lib/phobos.js';
import { type BenchmarkMessage, type RpcWorkloadName, serverReply } from '../../workloads/index.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const workload = process.argv[2] as RpcWorkloadName;

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

async function answer(
  request: IncomingMessage,
): Promise<{ type: string; gzip: boolean; body: Buffer | string }> {
  const bytes = await body(request);
  switch (workload) {
    case 'message1':
      return {
        type: 'application/json',
        gzip: false,
        body: JSON.stringify(serverReply(JSON.parse(bytes.toString()) as BenchmarkMessage)),
      };
    case 'echo64':
      return { type: 'application/json', gzip: false, body: JSON.stringify(JSON.parse(bytes.toString())) };
    case 'big256k':
      return { type: 'application/octet-stream', gzip: false, body: bytes };
    case 'big256k-gzip': {
      const plain = request.headers['content-encoding'] === 'gzip' ? await gunzipAsync(bytes) : bytes;
      return {
        type: 'application/octet-stream',
        gzip: true,
        body: await gzipAsync(plain, { level: phobos.DEFAULT_GZIP_LEVEL }),
      };
    }
  }
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  answer(request).then(
    (reply) => {
      response.writeHead(200, {
        'content-type': reply.type,
        'content-length': Buffer.byteLength(reply.body),
        ...(reply.gzip ? { 'content-encoding': 'gzip' } : {}),
      });
      response.end(reply.body);
    },
    (error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(String(error));
    },
  );
}

const server = createServer({ noDelay: true }, handle);
// HTTP keep-alive is on by default; keep idle connections open across the harness's warm-up and measured window.
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
runServerProcess(`127.0.0.1:${port}`, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
