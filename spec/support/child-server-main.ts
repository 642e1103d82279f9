// A server in its own process for the governance tests: serves HelloWorld.Greet (replying with
// its name) on the address given, prints { address } as one JSON line once listening, and obeys
// commands on stdin: `slow <ms>` makes Greet answer after that delay (0 for at once). Given etcd
// client URLs, a base path and a TTL after the name, it registers in etcd; SIGTERM shuts it down
// gracefully (the key goes first).
import { createInterface } from 'node:readline';
import { type CallContext, Server, type ServiceRegistry, silentLogger } from '../../lib/index.js';
import { etcdRegistry } from '../../lib/registry/index.js';

const [address = 'tcp@127.0.0.1:0', name = 'server', etcd, basePath, ttl] = process.argv.slice(2);
let delayMs = 0;

const registries: ServiceRegistry[] =
  etcd === undefined
    ? []
    : [
        etcdRegistry({
          hosts: etcd,
          basePath: basePath ?? '/phobos',
          ttlSeconds: Number(ttl ?? 10),
          logger: silentLogger,
        }),
      ];
const server = new Server({ logger: silentLogger, registries });
server.register('HelloWorld', {
  Greet(args: { First: string }, ctx: CallContext) {
    const reply = { Second: `Hello ${args.First}`, From: name };
    if (delayMs === 0) return reply;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => resolve(reply), delayMs);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(ctx.signal.reason);
      });
    });
  },
});
const bound = await server.listen(address);
process.stdout.write(`${JSON.stringify({ address: bound })}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, value] = line.trim().split(/\s+/);
  if (command === 'slow') delayMs = Number(value);
  process.stdout.write(`${JSON.stringify({ ok: command })}\n`);
});
process.stdin.on('close', () => void server.shutdown({ graceMs: 0 }).then(() => process.exit(0)));
process.on('SIGTERM', () => void server.shutdown({ graceMs: 5_000 }).then(() => process.exit(0)));
