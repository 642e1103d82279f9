// The gateway's baseline: node:http answering greet-json itself, with no RPC hop behind it
// (contract in benchmarks/harness/system.ts): `POST /HelloWorld/Greet` with a JSON body is parsed,
// greeted and answered 200 with JSON; anything else gets 404, a body that is not JSON 400.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runServerProcess } from '../../harness/server-process.js';
import { GREET_PATH, type GreetRequest, greet } from '../../workloads/index.js';

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': status === 200 ? 'application/json' : 'text/plain',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  if (request.method !== 'POST' || request.url !== GREET_PATH) {
    request.resume();
    send(response, 404, `no route ${request.method} ${request.url}`);
    return;
  }
  body(request).then(
    (bytes) => {
      let args: GreetRequest;
      try {
        args = JSON.parse(bytes.toString()) as GreetRequest;
      } catch {
        send(response, 400, 'the body is not JSON');
        return;
      }
      send(response, 200, JSON.stringify(greet(args)));
    },
    () => response.destroy(),
  );
}

const server = createServer({ noDelay: true }, handle);
// Keep idle connections open across the harness's warm-up and measured window.
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
runServerProcess(`127.0.0.1:${port}`, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
