import { describe, expect, it } from 'vitest';
import { ETCD_INSTALL_COMMAND, loadEtcd, loadEtcd3 } from '../../lib/cli/load-etcd.js';
import { runCli } from '../../lib/cli/program.js';
import { UsageError } from '../../lib/cli/usage-error.js';
import { expectUsageError, phobos } from './cli-process.js';

const ADDRESS = 'tcp@127.0.0.1:9';

/** Runs the program in this process with string outputs (no socket is opened by a usage error). */
async function runInProcess(args: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr, signal: null };
}

describe('phobos --help', { timeout: 30_000 }, () => {
  it('--help - every command prints its usage, an example and the exit codes, exit 0', async () => {
    const commands = ['call', 'ping', 'list', 'watch', 'bench'];
    const [root, ...results] = await Promise.all([
      phobos(['--help']),
      ...commands.map((command) => phobos([command, '--help'])),
    ]);
    expect(root?.code).toBe(0);
    expect(root?.stdout).toMatch(/^Usage: phobos \[options\] \[command\]$/m);
    for (const command of commands)
      expect(root?.stdout).toMatch(new RegExp(`^  ${command} \\[options\\]`, 'm'));
    results.forEach((result, index) => {
      const command = commands[index] as string;
      expect(result.code, command).toBe(0);
      expect(result.stderr, command).toBe('');
      expect(result.stdout, command).toMatch(new RegExp(`^Usage: phobos ${command} `, 'm'));
      expect(result.stdout, command).toMatch(/^Examples:$/m);
      expect(result.stdout, command).toMatch(new RegExp(`^  \\$ phobos ${command} `, 'm'));
      expect(result.stdout, command).toMatch(/^ {2}4 {2}deadline exceeded/m);
    });
  });

  it('--version - prints the version of package.json', async () => {
    const result = await phobos(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('phobos - usage errors exit 2 with one line naming what is wrong', { timeout: 30_000 }, () => {
  it('usage - end to end: unknown option, bad numbers and durations, bad address, bad JSON', async () => {
    const results = await Promise.all([
      phobos(['call', ADDRESS, 'Echo.Say', '{}', '--bogus']),
      phobos(['bench', ADDRESS, 'Echo.Say', '{}', '-c', '-3']),
      phobos(['bench', ADDRESS, 'Echo.Say', '{}', '-d', 'abc']),
      phobos(['call', 'nohost', 'Echo.Say', '{}']),
      phobos(['call', ADDRESS, 'Echo.Say', '{"First":']),
    ]);
    const lines = results.map(expectUsageError);
    expect(lines[0]).toBe("phobos call: error: unknown option '--bogus' (see 'phobos call --help')");
    expect(lines[1]).toMatch(/^phobos bench: error: option '-c, --concurrency <n>' argument '-3' is invalid/);
    expect(lines[2]).toMatch(
      /^phobos bench: error: option '-d, --duration <time>' argument 'abc' is invalid/,
    );
    expect(lines[3]).toBe('phobos call: error: bad ADDRESS: address "nohost" has no port; write host:port');
    expect(lines[4]).toMatch(/^phobos call: error: ARGS are not valid JSON: /);
    for (const result of results) expect(result.stdout).toBe('');
  });

  const cases: ReadonlyArray<readonly [string, readonly string[], RegExp]> = [
    ['-c 0', ['bench', ADDRESS, 'E.S', '-c', '0'], /'-c, --concurrency <n>' argument '0' is invalid/],
    ['-c past the limit', ['bench', ADDRESS, 'E.S', '-c', '10001'], /--concurrency.*from 1 to 10000/],
    ['-c 1.5', ['bench', ADDRESS, 'E.S', '-c', '1.5'], /--concurrency <n>' argument '1.5'/],
    ['-n and -d together', ['bench', ADDRESS, 'E.S', '-n', '5', '-d', '1s'], /give -n .* or -d .*, not both/],
    [
      'more connections than calls',
      ['bench', ADDRESS, 'E.S', '-c', '2', '--connections', '3'],
      /--connections 3/,
    ],
    [
      'a negative timeout',
      ['call', ADDRESS, 'E.S', '--timeout', '-1s'],
      /'-t, --timeout <time>' argument '-1s'/,
    ],
    ['a fractional ms', ['call', ADDRESS, 'E.S', '--timeout', '0.5ms'], /whole number of milliseconds/],
    [
      'a duration past 2^31-1 ms',
      ['ping', ADDRESS, '--interval', '30d'],
      /--interval <time>' argument '30d'/,
    ],
    ['a port out of range', ['call', 'tcp@127.0.0.1:99999', 'E.S'], /bad ADDRESS: .*port "99999"/],
    ['another network', ['ping', 'udp@127.0.0.1:1'], /bad ADDRESS: .*network "udp"/],
    ['no Service.Method', ['call', ADDRESS, 'Greet'], /"Greet" is not Service\.Method/],
    ['no method at all', ['call', ADDRESS], /missing Service\.Method after ADDRESS/],
    [
      'an unknown codec',
      ['call', ADDRESS, 'E.S', '--codec', 'xml'],
      /option '--codec <name>' argument 'xml' is invalid/,
    ],
    [
      '--meta without =',
      ['call', ADDRESS, 'E.S', '-m', 'novalue'],
      /'-m, --meta <key=value>' argument 'novalue'/,
    ],
    [
      'protobuf without --proto',
      ['call', ADDRESS, 'E.S', '--codec', 'protobuf'],
      /--codec protobuf needs --proto/,
    ],
    [
      '--proto with another codec',
      ['call', ADDRESS, 'E.S', '--codec', 'json', '--proto', 'x.proto', '--type', 'T'],
      /not --codec json/,
    ],
    [
      '--proto without --type',
      ['call', ADDRESS, 'E.S', '--proto', 'spec/fixtures/cli/arith.proto'],
      /--proto needs --type/,
    ],
    [
      'a .proto that is not there',
      ['call', ADDRESS, 'E.S', '--proto', 'nope.proto', '--type', 'T'],
      /cannot load --proto nope\.proto/,
    ],
    [
      'a type the .proto lacks',
      ['call', ADDRESS, 'E.S', '--proto', 'spec/fixtures/cli/arith.proto', '--type', 'arith.Nope'],
      /--type arith\.Nope is not a message type .* it has: arith\.Args, arith\.Reply/,
    ],
    [
      'raw ARGS that are not base64',
      ['call', ADDRESS, 'E.S', 'not base64!', '--codec', 'raw'],
      /must be base64/,
    ],
    [
      'ARGS from a missing file',
      ['call', ADDRESS, 'E.S', '@/nonexistent/args.json'],
      /cannot read ARGS from \/nonexistent\/args\.json/,
    ],
    [
      '--cert without --key',
      ['call', ADDRESS, 'E.S', '--cert', 'spec/fixtures/tls-cert.pem'],
      /--cert and --key go together/,
    ],
    [
      'a CA file that is not there',
      ['call', ADDRESS, 'E.S', '--ca', '/nonexistent.pem'],
      /cannot read --ca \/nonexistent\.pem/,
    ],
    [
      'an etcd URL that is not http',
      ['list', '--etcd', 'ftp://h:1'],
      /option '--etcd <urls>' argument 'ftp:\/\/h:1' is invalid/,
    ],
    [
      'a base path without /',
      ['list', '--etcd', 'http://h:1', '--base', 'phobos'],
      /'--base <path>' argument 'phobos'/,
    ],
    ['list without --etcd', ['list'], /required option '--etcd <urls>' not specified/],
    ['watch without a service', ['watch', '--etcd', 'http://h:1'], /missing required argument 'service'/],
    [
      'ADDRESS and --etcd together',
      ['call', ADDRESS, 'E.S', '{}', '--etcd', 'http://h:1'],
      /either ADDRESS or --etcd/,
    ],
    ['too many arguments', ['call', ADDRESS, 'E.S', '{}', 'extra'], /too many arguments for 'call'/],
    [
      'a ping count that is not a number',
      ['ping', ADDRESS, '--count', 'x'],
      /'-c, --count <n>' argument 'x'/,
    ],
    ['an unknown command', ['frob'], /unknown command 'frob'/],
  ];

  for (const [what, args, message] of cases) {
    it(`usage - ${what}`, async () => {
      const result = await runInProcess(args);
      const line = expectUsageError(result);
      expect(line).toMatch(/^phobos( \w+)?: error: /);
      expect(line).toMatch(message);
      expect(result.stdout).toBe('');
    });
  }

  it('usage - no command prints the help on stderr and exits 2', async () => {
    const result = await runInProcess([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^Usage: phobos /);
  });
});

describe('phobos --etcd without the etcd3 package', () => {
  const missing = (name: string) =>
    Object.assign(new Error(`Cannot find package '${name}' imported from /x/lib/registry/etcd-client.js`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });

  it('loadEtcd - a missing etcd3 or cockatiel becomes a usage error naming the npm install command', async () => {
    for (const name of ['etcd3', 'cockatiel']) {
      const error = await loadEtcd(() => Promise.reject(missing(name))).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain(`\`${ETCD_INSTALL_COMMAND}\``);
    }
    const direct = await loadEtcd3(() => Promise.reject(missing('etcd3'))).catch((e: unknown) => e);
    expect((direct as Error).message).toBe(
      '--etcd needs the package etcd3, which is not installed: run `npm install etcd3`',
    );
  });

  it('loadEtcd - any other loading error is passed on unchanged', async () => {
    const other = new SyntaxError('Unexpected token');
    await expect(loadEtcd(() => Promise.reject(other))).rejects.toBe(other);
  });
});
