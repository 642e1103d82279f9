// Serves HelloWorld.Greet and registers it in etcd under {base}/HelloWorld/tcp@{advertise}; on
// SIGINT/SIGTERM it deletes its key first, lets calls in flight finish, then exits. It prints
// `serving HelloWorld on ADDRESS` once it listens, and `registered ADDRESS in etcd ...` only
// once etcd holds the key (at once, or later when etcd answers again). Run --help for the flags.
//   npx tsx examples/etcd/server.ts --addr localhost:8972 --etcd http://127.0.0.1:2379 --base /phobos
//   npx tsx examples/etcd/server.ts --addr 0.0.0.0:8972 --advertise 10.0.0.7:8972
import { Server } from '../../lib/index.js';
import { type EtcdRegistry, type EtcdRegistryState, etcdRegistry } from '../../lib/registry/index.js';
import { HelloWorld } from '../helloworld/service.js';
import {
  basePath,
  cannotListen,
  defineCommand,
  etcdUrls,
  type FlagValues,
  hostOf,
  hostPort,
  isUnspecifiedHost,
  readCommandLine,
  UsageError,
} from '../lib/cli.js';

const GRACE_MS = 5_000;
const METADATA = 'weight=10&state=active';

const COMMAND = defineCommand({
  name: 'etcd/server',
  run: 'npx tsx examples/etcd/server.ts',
  summary: [
    'Serves HelloWorld.Greet and registers it in etcd (key {base}/HelloWorld/tcp@ADVERTISE, value',
    `${METADATA}) under a lease kept alive while it runs. Prints "serving HelloWorld on ADDRESS"`,
    'once it listens and "registered ADDRESS in etcd ..." once etcd holds the key; while etcd does',
    'not answer it says so on stderr, serves anyway and keeps retrying. SIGINT/SIGTERM delete the',
    `key, let calls in flight finish (up to ${GRACE_MS} ms), then exit. Exits 1 when it cannot listen.`,
  ].join('\n'),
  flags: {
    addr: {
      type: 'string',
      value: 'HOST:PORT',
      default: 'localhost:8972',
      description: 'where to listen; port 0 picks a free one',
    },
    advertise: {
      type: 'string',
      value: 'HOST:PORT',
      description:
        'the address registered in etcd, the one clients dial (default: the address listened on; required when listening on 0.0.0.0 or ::)',
    },
    etcd: {
      type: 'string',
      value: 'URL,...',
      default: 'http://127.0.0.1:2379',
      description: 'the client URLs of the etcd members, comma-separated',
    },
    base: { type: 'string', value: 'PATH', default: '/phobos', description: 'the base path of the keys' },
  },
  examples: [
    'npx tsx examples/etcd/server.ts --addr localhost:8972 --etcd http://127.0.0.1:2379 --base /phobos',
    'npx tsx examples/etcd/server.ts --addr 0.0.0.0:8972 --advertise 10.0.0.7:8972',
  ],
});

interface Options {
  readonly addr: string;
  readonly advertise: string | undefined;
  readonly etcd: string;
  readonly base: string;
}

const ADVERTISE_HINT =
  "give this host's IP address or name, the one clients reach it by, e.g. --advertise 10.0.0.7:8972";

function options(flags: FlagValues<typeof COMMAND.flags>): Options {
  const addr = hostPort('--addr', flags.addr, { dial: false });
  const advertise =
    flags.advertise === undefined ? undefined : hostPort('--advertise', flags.advertise, { dial: true });
  if (advertise !== undefined && isUnspecifiedHost(hostOf(advertise))) {
    throw new UsageError(
      `--advertise ${advertise}: ${hostOf(advertise)} is no address a client can dial; ${ADVERTISE_HINT}`,
    );
  }
  if (advertise === undefined && isUnspecifiedHost(hostOf(addr))) {
    throw new UsageError(
      `--addr ${addr} listens on every interface, and ${hostOf(addr)} is no address to register for clients to dial; ${ADVERTISE_HINT}`,
    );
  }
  return { addr, advertise, etcd: etcdUrls('--etcd', flags.etcd), base: basePath('--base', flags.base) };
}

/** Says what the registry does with the registration: registered, or waiting for etcd. */
function reportRegistration(registry: EtcdRegistry, advertised: string, where: string): void {
  let registered = false;
  registry.state$.subscribe((state: EtcdRegistryState) => {
    if (state === 'registered') {
      console.log(`${registered ? 'registered again' : 'registered'} ${advertised} in etcd ${where}`);
      registered = true;
    } else if (state === 'unreachable') {
      console.error(
        registered
          ? `${COMMAND.name}: etcd does not answer; the key may expire with its lease, and is put again when etcd answers`
          : `${COMMAND.name}: not registered: etcd does not answer; serving anyway, and registering when etcd answers`,
      );
    }
  });
}

async function main(options: Options): Promise<void> {
  const registry = etcdRegistry({ hosts: options.etcd, basePath: options.base });
  const server = new Server({ registries: [registry] });
  server.register('HelloWorld', new HelloWorld(), { metadata: METADATA });
  const advertiseAddress = options.advertise === undefined ? undefined : `tcp@${options.advertise}`;
  let address: string;
  try {
    // Resolves once etcd holds the key, or once the registration failed (logged; the registry
    // keeps retrying): state$ tells which.
    address = await server.listen(
      `tcp@${options.addr}`,
      advertiseAddress === undefined ? {} : { advertiseAddress },
    );
  } catch (error) {
    cannotListen(COMMAND.name, `tcp@${options.addr}`, error);
    await server.shutdown({ graceMs: 0 });
    await registry.close();
    return;
  }
  // Ready for signals before saying it listens: whoever waits for the line may stop it at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: shutting down`);
      void server
        .shutdown({ graceMs: GRACE_MS })
        .then(() => registry.close())
        .then(() => console.log('stopped'));
    });
  }
  console.log(`serving HelloWorld on ${address}`);
  reportRegistration(
    registry,
    advertiseAddress ?? address,
    `${options.etcd} under ${options.base}/HelloWorld`,
  );
}

const parsed = readCommandLine(COMMAND, options);
if (parsed !== undefined) await main(parsed);
