// `npm run demo`: a server and a client in one process, on a free loopback port.
import { Client, SerializeType, Server } from '../lib/index.js';
import { HelloWorld, type Reply } from './helloworld/service.js';

const server = new Server();
server.register('HelloWorld', new HelloWorld());
const address = await server.listen('tcp@127.0.0.1:0');
console.log(`server listening on ${address}`);

for (const [name, serializeType] of [
  ['JSON', SerializeType.JSON],
  ['MsgPack', SerializeType.MsgPack],
] as const) {
  const client = new Client(address, { serializeType, timeoutMs: 5_000 });
  const reply = await client.call<Reply>('HelloWorld', 'Greet', { First: 'budei' });
  console.log(`${name} reply: ${reply.Second}`);
  await client.close();
}

await server.shutdown({ graceMs: 1_000 });
console.log('server stopped');
