// `npm run demo`: three HelloWorld servers publish themselves in the in-memory registry (the
// embedded default: no registry server needed); an XClient discovers them, spreads calls over
// them, and carries on when one shuts down. Everything runs in this process on loopback.
import { memoryRegistry, SerializeType, Server, XClient } from '../lib/index.js';
import { HelloWorld, type Reply } from './helloworld/service.js';

const registry = memoryRegistry();
const servers: Server[] = [];
for (let i = 0; i < 3; i++) {
  const server = new Server({ registries: [registry] });
  server.register('HelloWorld', new HelloWorld(), { metadata: `name=server-${i}` });
  const address = await server.listen('tcp@127.0.0.1:0');
  console.log(`server-${i} listening on ${address}`);
  servers.push(server);
}

const client = new XClient('HelloWorld', {
  discovery: registry.discovery('HelloWorld'),
  failMode: 'failover',
  selectMode: 'roundRobin',
  serializeType: SerializeType.JSON,
  timeoutMs: 5_000,
});

const reply = await client.call<Reply>('Greet', { First: 'budei' });
console.log(`reply: ${reply.Second}`);

const hello = client.proxy<HelloWorld>();
console.log(`through a typed proxy: ${(await hello.Greet({ First: 'proxy' })).Second}`);

const everyone = await client.broadcast<Reply>('Greet', { First: 'all' });
console.log(`broadcast to ${everyone.length} servers: ${everyone.map((r) => r.Second).join(', ')}`);

await servers[0]?.shutdown({ graceMs: 1_000 });
console.log('server-0 shut down (it left the registry first)');
let answered = 0;
for (let i = 0; i < 10; i++) {
  await client.call<Reply>('Greet', { First: `call ${i}` });
  answered++;
}
console.log(`${answered} of 10 calls answered by the remaining servers`);

await client.close();
for (const server of servers.slice(1)) await server.shutdown({ graceMs: 1_000 });
console.log('done');
