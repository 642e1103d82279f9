// `npm run demo`: three HelloWorld servers publish themselves in the in-memory registry (the
// embedded default: no registry server needed); an XClient discovers them, spreads calls over
// them, and carries on when one shuts down. Everything runs in this process on loopback.
// `npm run demo -- --help` lists the flags.
import { memoryRegistry, SerializeType, Server, XClient } from '../lib/index.js';
import { HelloWorld, type Reply } from './helloworld/service.js';
import { defineCommand, integerFlag, oneOf, readCommandLine } from './lib/cli.js';

const CODECS = { json: SerializeType.JSON, msgpack: SerializeType.MsgPack } as const;
const CALLS_AFTER_SHUTDOWN = 10;

const COMMAND = defineCommand({
  name: 'demo',
  run: 'npm run demo --',
  summary: [
    'Starts HelloWorld servers on free loopback ports, publishing themselves in the in-memory',
    'registry; an XClient (failover, round robin) discovers them, calls one, calls through a typed',
    `proxy, broadcasts to all, then shuts the first server down and makes ${CALLS_AFTER_SHUTDOWN} more calls`,
    'that the others answer. All in this process; it exits when done.',
  ].join('\n'),
  flags: {
    servers: { type: 'string', value: 'N', default: '3', description: 'servers to start, 2 to 16' },
    codec: {
      type: 'string',
      value: 'json|msgpack',
      default: 'json',
      description: 'how the arguments and replies are encoded',
    },
  },
  examples: ['npm run demo -- --servers 5 --codec msgpack', 'npx tsx examples/demo.ts --servers 2'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  servers: integerFlag('--servers', flags.servers, 2, 16),
  codec: oneOf('--codec', flags.codec, ['json', 'msgpack'], 'HelloWorld has no Protobuf types'),
}));

if (options !== undefined) {
  const registry = memoryRegistry();
  const servers: Server[] = [];
  for (let i = 0; i < options.servers; i++) {
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
    serializeType: CODECS[options.codec],
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
  for (let i = 0; i < CALLS_AFTER_SHUTDOWN; i++) {
    await client.call<Reply>('Greet', { First: `call ${i}` });
    answered++;
  }
  console.log(`${answered} of ${CALLS_AFTER_SHUTDOWN} calls answered by the remaining servers`);

  await client.close();
  for (const server of servers.slice(1)) await server.shutdown({ graceMs: 1_000 });
  console.log('done');
}
