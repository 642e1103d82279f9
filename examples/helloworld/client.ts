// Calls HelloWorld.Greet once and prints the reply; exits 1 when the call fails. Run --help for
// the flags.
//   npx tsx examples/helloworld/client.ts --addr localhost:8972 --codec json
import { Client, SerializeType } from '../../lib/index.js';
import { defineCommand, hostPort, oneOf, readCommandLine } from '../lib/cli.js';
import type { Args, Reply } from './service.js';

const TIMEOUT_MS = 5_000;

/** The codecs this client speaks, and the serialize type each sends. */
const CODECS = { json: SerializeType.JSON, msgpack: SerializeType.MsgPack } as const;

const COMMAND = defineCommand({
  name: 'helloworld/client',
  run: 'npx tsx examples/helloworld/client.ts',
  summary: [
    'Calls HelloWorld.Greet once with {"First": NAME} and prints "reply: Hello NAME"; exits 1',
    `when the call fails (the deadline is ${TIMEOUT_MS} ms).`,
  ].join('\n'),
  flags: {
    addr: {
      type: 'string',
      value: 'HOST:PORT',
      default: 'localhost:8972',
      description: 'the server to call',
    },
    codec: {
      type: 'string',
      value: 'json|msgpack',
      default: 'msgpack',
      description: 'how the arguments and the reply are encoded',
    },
    name: { type: 'string', value: 'TEXT', default: 'budei', description: 'who to greet' },
  },
  examples: ['npx tsx examples/helloworld/client.ts --addr localhost:8972 --codec json --name world'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  addr: hostPort('--addr', flags.addr, { dial: true }),
  // Protobuf needs generated message types, which HelloWorld's plain objects are not.
  codec: oneOf('--codec', flags.codec, ['json', 'msgpack'], 'HelloWorld has no Protobuf types'),
  name: flags.name,
}));

if (options !== undefined) {
  const client = new Client(`tcp@${options.addr}`, {
    serializeType: CODECS[options.codec],
    timeoutMs: TIMEOUT_MS,
  });
  try {
    const args: Args = { First: options.name };
    const reply = await client.call<Reply>('HelloWorld', 'Greet', args);
    console.log(`reply: ${reply.Second}`);
  } catch (error) {
    console.error(`${COMMAND.name}: the call failed: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}
