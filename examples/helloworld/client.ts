// Calls HelloWorld.Greet once and prints the reply.
//   npx tsx examples/helloworld/client.ts --addr localhost:8972 [--codec json|msgpack]
import { parseArgs } from 'node:util';
import { Client, SerializeType } from '../../lib/index.js';
import type { Args, Reply } from './service.js';

const { values } = parseArgs({
  options: {
    addr: { type: 'string', default: 'localhost:8972' },
    codec: { type: 'string', default: 'msgpack' },
  },
});

const serializeType = values.codec === 'json' ? SerializeType.JSON : SerializeType.MsgPack;
const client = new Client(`tcp@${values.addr}`, { serializeType, timeoutMs: 5_000 });
try {
  const args: Args = { First: 'budei' };
  const reply = await client.call<Reply>('HelloWorld', 'Greet', args);
  console.log(`reply: ${reply.Second}`);
} catch (error) {
  console.error(`failed to call: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
