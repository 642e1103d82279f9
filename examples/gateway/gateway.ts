// An HTTP gateway in front of HelloWorld servers, with a page to call it from a browser at `/`.
// Prints `gateway on URL`; SIGINT/SIGTERM let the calls in flight finish, then it exits.
//   npx tsx examples/gateway/gateway.ts --http 127.0.0.1:8080 --addrs localhost:8972
//   npx tsx examples/gateway/gateway.ts --http 127.0.0.1:8080 --etcd http://127.0.0.1:2379 --base /phobos
// Run --help for every flag.
import {
  basePath,
  cannotListen,
  defineCommand,
  etcdUrls,
  type FlagValues,
  hostPort,
  hostPorts,
  readCommandLine,
  reportUsageError,
  UsageError,
} from '../lib/cli.js';
import {
  DEFAULT_BASE_PATH,
  type GatewayExample,
  type GatewayExampleOptions,
  startGatewayExample,
} from './start-gateway-example.js';

const DEFAULT_ADDRS = 'localhost:8972';

const COMMAND = defineCommand({
  name: 'gateway',
  run: 'npx tsx examples/gateway/gateway.ts',
  summary: [
    'Serves an HTTP gateway to HelloWorld servers (plain JSON, JSON-RPC 2.0, Connect, the Go Phobos',
    'and rpcx header protocols) and a page that calls it at GET /. Prints "gateway on URL" once it',
    'listens; SIGINT/SIGTERM let the calls in flight finish, then it exits. Exits 1 when it cannot',
    'listen.',
  ].join('\n'),
  flags: {
    http: {
      type: 'string',
      value: 'HOST:PORT',
      default: '127.0.0.1:8080',
      description: 'where to listen ([::1]:8080 for IPv6); port 0 picks a free one',
    },
    addrs: {
      type: 'string',
      value: 'HOST:PORT,...',
      description: `the Phobos servers, host:port or tcp@host:port (default ${DEFAULT_ADDRS}, unless --etcd)`,
    },
    etcd: {
      type: 'string',
      value: 'URL,...',
      description: 'find the servers in etcd instead of --addrs: the etcd client URLs, comma-separated',
    },
    base: {
      type: 'string',
      value: 'PATH',
      description: `the registry's base path in etcd, with --etcd (default ${DEFAULT_BASE_PATH})`,
    },
    cors: {
      type: 'string',
      value: 'ORIGIN,...',
      description: 'origins whose pages may call the gateway, or * for any (default: none, same origin only)',
    },
    jsonrpc: { type: 'string', value: 'PATH', default: '/jsonrpc', description: 'the JSON-RPC 2.0 endpoint' },
  },
  examples: [
    'npx tsx examples/gateway/gateway.ts --http 127.0.0.1:8080 --addrs localhost:8972',
    'npx tsx examples/gateway/gateway.ts --http 127.0.0.1:0 --etcd http://127.0.0.1:2379 --base /phobos',
  ],
});

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The example's options from the flags. */
function options(flags: FlagValues<typeof COMMAND.flags>): GatewayExampleOptions {
  if (flags.addrs !== undefined && flags.etcd !== undefined)
    throw new UsageError('give --addrs or --etcd, not both');
  if (flags.base !== undefined && flags.etcd === undefined) throw new UsageError('--base needs --etcd');
  const http = flags.http.startsWith('http://')
    ? flags.http.slice('http://'.length).replace(/\/$/, '')
    : flags.http;
  const servers =
    flags.etcd === undefined
      ? { addrs: hostPorts('--addrs', flags.addrs ?? DEFAULT_ADDRS) }
      : { etcd: etcdUrls('--etcd', flags.etcd), base: basePath('--base', flags.base ?? DEFAULT_BASE_PATH) };
  const cors = flags.cors === undefined ? undefined : flags.cors.trim() === '*' ? '*' : list(flags.cors);
  if (cors !== undefined && cors.length === 0)
    throw new UsageError('--cors must name at least one origin, or *');
  return {
    http: hostPort('--http', http, { dial: false }),
    ...servers,
    ...(cors === undefined ? {} : { cors }),
    jsonRpcPath: flags.jsonrpc,
  };
}

/** Starts listening; undefined with exit status 2 for options the gateway refuses, 1 when it cannot listen. */
async function start(options: GatewayExampleOptions): Promise<GatewayExample | undefined> {
  let started: Promise<GatewayExample>;
  try {
    // Options the gateway itself refuses (a bad origin, a bad path) throw here, before anything listens.
    started = startGatewayExample(options);
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    reportUsageError(COMMAND.name, error.message);
    return undefined;
  }
  try {
    return await started;
  } catch (error) {
    cannotListen(COMMAND.name, `http://${options.http}`, error);
    return undefined;
  }
}

const parsed = readCommandLine(COMMAND, options);
const example = parsed === undefined ? undefined : await start(parsed);
if (example !== undefined) {
  // Ready for signals before saying it listens: whoever waits for the line may stop it at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: closing`);
      void example.close().then(() => console.log('stopped'));
    });
  }
  console.log(`gateway on ${example.url}`);
}
