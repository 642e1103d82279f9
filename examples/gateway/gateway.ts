// An HTTP gateway in front of HelloWorld servers, with a page to call it from a browser at `/`.
// Prints `gateway on URL`; SIGINT/SIGTERM let the calls in flight finish, then it exits.
//   npx tsx examples/gateway/gateway.ts --http 127.0.0.1:8080 --addrs localhost:8972
//   npx tsx examples/gateway/gateway.ts --http 127.0.0.1:8080 --etcd http://127.0.0.1:2379 --base /phobos
// Run --help for every flag.
import { parseArgs } from 'node:util';
import {
  DEFAULT_BASE_PATH,
  type GatewayExample,
  type GatewayExampleOptions,
  startGatewayExample,
} from './start-gateway-example.js';

const DEFAULT_HTTP = '127.0.0.1:8080';
const DEFAULT_ADDRS = 'localhost:8972';

const USAGE = `Usage: npx tsx examples/gateway/gateway.ts [options]

Serves an HTTP gateway to HelloWorld servers, and a page that calls it at GET /.

Options:
  --http HOST:PORT     where to listen (default ${DEFAULT_HTTP}; port 0 picks a free one)
  --addrs ADDR,...     the Phobos servers, host:port or tcp@host:port (default ${DEFAULT_ADDRS})
  --etcd URL,...       discover the servers in etcd instead of --addrs
  --base PATH          the registry's base path in etcd (default ${DEFAULT_BASE_PATH}; with --etcd)
  --cors ORIGIN,...    origins allowed to call from a browser, or * for any (default: none)
  --jsonrpc PATH       the JSON-RPC 2.0 endpoint (default /jsonrpc)
  -h, --help           print this help
`;

/** Bad command-line input: reported without a stack trace, exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The example's options from the command line, or `help`. */
function parseCommandLine(args: string[]): GatewayExampleOptions | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(args));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help === true) return 'help';
  if (values.addrs !== undefined && values.etcd !== undefined) {
    throw new UsageError('give --addrs or --etcd, not both');
  }
  if (values.base !== undefined && values.etcd === undefined) throw new UsageError('--base needs --etcd');
  const servers =
    values.etcd === undefined
      ? { addrs: list(values.addrs ?? DEFAULT_ADDRS) }
      : { etcd: values.etcd, ...(values.base === undefined ? {} : { base: values.base }) };
  return {
    http: values.http ?? DEFAULT_HTTP,
    ...servers,
    ...(values.cors === undefined ? {} : { cors: values.cors.trim() === '*' ? '*' : list(values.cors) }),
    ...(values.jsonrpc === undefined ? {} : { jsonRpcPath: values.jsonrpc }),
  };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      http: { type: 'string' },
      addrs: { type: 'string' },
      etcd: { type: 'string' },
      base: { type: 'string' },
      cors: { type: 'string' },
      jsonrpc: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Parses the command line and starts listening; exits 2 on bad input, 1 when it cannot listen. */
async function main(): Promise<GatewayExample | undefined> {
  let started: Promise<GatewayExample>;
  try {
    const options = parseCommandLine(process.argv.slice(2));
    if (options === 'help') {
      process.stdout.write(USAGE);
      return undefined;
    }
    // Options the example or the gateway refuse throw here, before anything listens.
    started = startGatewayExample(options);
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof TypeError || error instanceof RangeError;
    if (!usage) throw error;
    console.error(`gateway: ${error.message}\nRun with --help for the options.`);
    process.exitCode = 2;
    return undefined;
  }
  try {
    return await started;
  } catch (error) {
    console.error(`gateway: cannot listen: ${(error as Error).message}`);
    process.exitCode = 1;
    return undefined;
  }
}

const example = await main();
if (example !== undefined) {
  console.log(`gateway on ${example.url}`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: closing`);
      void example.close().then(() => console.log('stopped'));
    });
  }
}
