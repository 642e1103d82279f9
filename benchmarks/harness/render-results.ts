import { GREET_CLIENT_CONFIGURATION } from '../systems/greet-json-client.js';
import {
  isRpcWorkload,
  RPC_WORKLOADS,
  WORKLOAD_DESCRIPTIONS,
  type WorkloadName,
} from '../workloads/workload.js';
import { type BenchReport, type CellSummary, summarize } from './bench-report.js';
import { type SystemName, systemsFor } from './system.js';

/** The heading that starts the soak section of RESULTS.md (always its last section). */
export const SOAK_HEADING = '## Soak';
/** Heading of the hand-written profile analysis, kept (like the soak section) when RESULTS.md is regenerated. */
export const PROFILE_HEADING = '## Where the time goes';
/**
 * Heading of the gateway comparison (greet-json), between the RPC workloads and the kept sections.
 * It names its own run, so a run that measures only greet-json replaces it and keeps the rest.
 */
export const GATEWAY_HEADING = '## Gateway';

/** The peers phobos is compared with, in report order. */
const PEERS = ['grpc-js', 'http', 'http-pool', 'raw-tcp'] as const satisfies readonly SystemName[];

const SETTINGS_NOTE = {
  quick: 'quick run',
  full: 'full run',
  gateway: 'gateway run',
} as const;

/** The concurrency the gateway's target is set at. */
const GATEWAY_TARGET_IN_FLIGHT = 100;
/** The gateway must reach at least this share of the bare server's calls/s... */
const GATEWAY_MIN_THROUGHPUT_SHARE = 0.6;
/** ...with a p99 at most this many times the bare server's. */
const GATEWAY_MAX_P99_FACTOR = 2;

function count(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–';
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function mb(kb: number): string {
  return Number.isFinite(kb) ? (kb / 1024).toFixed(0) : '–';
}

function ratio(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const text = value >= 10 ? value.toFixed(1) : value >= 0.1 ? value.toFixed(2) : value.toPrecision(2);
  return `${text}×`;
}

/** The systems of a report that serve `workload`, in report order. */
function systemsOf(report: BenchReport, workload: WorkloadName): SystemName[] {
  return systemsFor(workload).filter((system) => report.settings.systems.includes(system));
}

/** The summaries of every system in one cell, by system. */
function cell(report: BenchReport, workload: WorkloadName, concurrency: number) {
  const bySystem = new Map<SystemName, CellSummary>();
  for (const system of systemsOf(report, workload)) {
    const summary = summarize(report.runs, workload, concurrency, system);
    if (summary) bySystem.set(system, summary);
  }
  return bySystem;
}

/** Said under the targets when one is not met: where the analysis of what is left lives. */
const SHORTFALL_NOTE =
  'Where a target is not met, "Where the time goes" below says what the CPU profiles show is left and ' +
  'what would close the gap.';

/** One target's verdict: whether it is met, the measured figure, and how far short (a fraction). */
function verdict(label: string, met: boolean, detail: string, shortBy: number): string {
  return met
    ? `${label}: **met** (${detail})`
    : `${label}: **not met** (${detail}; short by ${(100 * shortBy).toFixed(0)}%)`;
}

/** The HTTP configurations; a target against HTTP is measured against the best of them. */
const HTTP_SYSTEMS = ['http', 'http-pool'] as const satisfies readonly SystemName[];

/**
 * The line that says which speed targets phobos meets: on message1, at least ½ raw TCP's calls/s
 * at every measured concurrency and 0.6× at 100, at least 15× grpc-js and 2.5× the best HTTP
 * configuration at 100, a p99 at most ⅕ of grpc-js's at 100; on echo64, at least 0.8× raw TCP
 * at 100.
 */
export function targetsLine(report: BenchReport): string {
  const checks: string[] = [];
  const atLeast = (value: number, target: number): [boolean, string, number] => [
    value >= target,
    ratio(value),
    1 - value / target,
  ];
  /** Checks phobos against the best of `peers` in one cell, or says what was not measured. */
  const check = (
    workload: WorkloadName,
    inFlight: number,
    peers: readonly SystemName[],
    label: string,
    holds: (p: CellSummary, q: CellSummary) => [boolean, string, number],
  ): void => {
    const summaries = cell(report, workload, inFlight);
    const phobos = summaries.get('phobos');
    const measuredPeers = peers
      .map((name) => summaries.get(name))
      .filter((summary): summary is CellSummary => summary !== undefined);
    if (!phobos || measuredPeers.length === 0) return;
    const best = measuredPeers.reduce((a, b) => (b.callsPerSecond > a.callsPerSecond ? b : a));
    checks.push(verdict(label, ...holds(phobos, best)));
  };
  const throughput = (target: number) => (p: CellSummary, q: CellSummary) =>
    atLeast(p.callsPerSecond / q.callsPerSecond, target);
  const message1InFlight = [
    ...new Set(report.settings.cells.filter((c) => c.workload === 'message1').map((c) => c.concurrency)),
  ].sort((a, b) => a - b);
  for (const inFlight of message1InFlight) {
    const target = inFlight === 100 ? 0.6 : 0.5;
    check(
      'message1',
      inFlight,
      ['raw-tcp'],
      `message1 at ${inFlight}: ≥ ${target}× raw TCP`,
      throughput(target),
    );
  }
  check('message1', 100, ['grpc-js'], 'message1 at 100: ≥ 15× grpc-js', throughput(15));
  check('message1', 100, HTTP_SYSTEMS, 'message1 at 100: ≥ 2.5× the best HTTP', throughput(2.5));
  check('message1', 100, ['grpc-js'], 'message1 at 100: p99 ≤ ⅕ of grpc-js', (p, q) => [
    p.p99Ms <= q.p99Ms / 5,
    `${ms(p.p99Ms)} ms vs ${ms(q.p99Ms)} ms: ${ratio(p.p99Ms / q.p99Ms)}`,
    p.p99Ms / (q.p99Ms / 5) - 1,
  ]);
  check('echo64', 100, ['raw-tcp'], 'echo64 at 100: ≥ 0.8× raw TCP', throughput(0.8));
  if (checks.length === 0) return 'Speed targets: no cell they are set on was measured in this run.';
  return `Speed targets: ${checks.join('; ')}.`;
}

/**
 * The line that says whether the gateway meets its target on greet-json at 100 in flight: at
 * least 60% of the bare HTTP server's calls/s, with a p99 at most twice the bare server's.
 */
export function gatewayTargetsLine(report: BenchReport): string {
  const summaries = cell(report, 'greet-json', GATEWAY_TARGET_IN_FLIGHT);
  const gateway = summaries.get('gateway');
  const bare = summaries.get('http-bare');
  const where = `greet-json at ${GATEWAY_TARGET_IN_FLIGHT} in flight`;
  if (!gateway || !bare)
    return `Gateway target: ${where} was not measured in this run (both systems are needed).`;
  const share = gateway.callsPerSecond / bare.callsPerSecond;
  const factor = gateway.p99Ms / bare.p99Ms;
  const checks = [
    verdict(
      `throughput ≥ ${100 * GATEWAY_MIN_THROUGHPUT_SHARE}% of http-bare`,
      share >= GATEWAY_MIN_THROUGHPUT_SHARE,
      `${count(gateway.callsPerSecond)} vs ${count(bare.callsPerSecond)} calls/s: ${ratio(share)}`,
      1 - share / GATEWAY_MIN_THROUGHPUT_SHARE,
    ),
    verdict(
      `p99 ≤ ${GATEWAY_MAX_P99_FACTOR}× http-bare`,
      factor <= GATEWAY_MAX_P99_FACTOR,
      `${ms(gateway.p99Ms)} ms vs ${ms(bare.p99Ms)} ms: ${ratio(factor)}`,
      factor / GATEWAY_MAX_P99_FACTOR - 1,
    ),
  ];
  return `Gateway target on ${where}: ${checks.join('; ')}.`;
}

/**
 * Whether a report ran any system on a workload that `workloads` accepts (a run that failed counts).
 *
 * @example
 * ```ts
 * measured(report, isRpcWorkload); // false after `npm run bench -- --gateway`
 * ```
 */
export function measured(report: BenchReport, workloads: (workload: WorkloadName) => boolean): boolean {
  return report.runs.some((run) => workloads(run.workload));
}

/** The parts of RESULTS.md: the RPC workloads (with the header), the gateway section, the kept sections. */
interface ResultsParts {
  readonly rpc: string | undefined;
  readonly gateway: string | undefined;
  readonly kept: string | undefined;
}

/** Splits an existing RESULTS.md into its {@link ResultsParts} (each undefined when absent). */
function partsOf(markdown: string): ResultsParts {
  const at = (heading: string): number => {
    const index = markdown.indexOf(`\n${heading}`);
    return index === -1 ? markdown.length : index + 1;
  };
  const keptAt = Math.min(at(PROFILE_HEADING), at(SOAK_HEADING));
  const gatewayAt = Math.min(at(GATEWAY_HEADING), keptAt);
  const part = (from: number, to: number): string | undefined =>
    to > from ? markdown.slice(from, to).trimEnd() : undefined;
  return { rpc: part(0, gatewayAt), gateway: part(gatewayAt, keptAt), kept: part(keptAt, markdown.length) };
}

/**
 * RESULTS.md for a report, given the file as it was (`previous`, '' when there is none). The RPC
 * workloads (with the header, the speed targets and the chart) are rendered from the report when
 * it measured any of them, else kept from `previous`; the Gateway section likewise for greet-json.
 * `chartLink` is where the report shows the chart from (default `results/throughput.svg`, the
 * tracked chart seen from RESULTS.md).
 * The hand-kept sections, from the profile analysis or the soak section (whichever comes first)
 * to the end, are kept unchanged.
 *
 * @example
 * ```ts
 * writeFileSync('benchmarks/RESULTS.md', renderResults(report, readFileSync('benchmarks/RESULTS.md', 'utf8')));
 * ```
 */
export function renderResults(
  report: BenchReport,
  previous: string,
  chartLink = 'results/throughput.svg',
): string {
  const old = partsOf(previous);
  const rpc =
    measured(report, isRpcWorkload) || old.rpc === undefined
      ? renderRpcWorkloads(report, chartLink)
      : old.rpc;
  const gateway = measured(report, (workload) => !isRpcWorkload(workload))
    ? renderGateway(report)
    : old.gateway;
  return `${[rpc, gateway, old.kept].filter((part) => part !== undefined).join('\n\n')}\n`;
}

/** The failed runs of `workloads`, as a list under `heading` (nothing when none failed). */
function failedRuns(
  report: BenchReport,
  heading: string,
  workloads: (workload: WorkloadName) => boolean,
): string[] {
  const failures = report.runs.filter((run) => run.failure !== undefined && workloads(run.workload));
  if (failures.length === 0) return [];
  return [
    heading,
    '',
    ...failures.map(
      (run) => `- ${run.workload} at ${run.concurrency}, ${run.system}, round ${run.round}: ${run.failure}`,
    ),
    '',
  ];
}

/** One table row per system of `workload` at `concurrency`; `highlight` is set in bold. */
function tableRows(
  report: BenchReport,
  workload: WorkloadName,
  concurrency: number,
  highlight: SystemName,
): string[] {
  const summaries = cell(report, workload, concurrency);
  return systemsOf(report, workload).map((system) => {
    const s = summaries.get(system);
    if (!s) return `| ${concurrency} | ${system} | failed | | | | | | | | |`;
    const name = system === highlight ? `**${system}**` : system;
    return `| ${concurrency} | ${name} | ${count(s.callsPerSecond)} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${ms(s.p999Ms)} | ${fixed(s.clientCpuSecondsPer10k, 2)} | ${fixed(s.serverCpuSecondsPer10k, 2)} | ${mb(s.clientMaxRssKb)} | ${mb(s.serverMaxRssKb)} | ${s.errors} |`;
  });
}

const TABLE_HEAD = [
  '| in flight | system | calls/s | p50 ms | p99 ms | p99.9 ms | CPU s / 10k client | CPU s / 10k server | peak RSS MB client | peak RSS MB server | errors |',
  '| --: | :-- | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
];

/** The concurrencies a report measured `workload` at. */
function concurrenciesOf(report: BenchReport, workload: WorkloadName): number[] {
  return report.settings.cells.filter((c) => c.workload === workload).map((c) => c.concurrency);
}

/**
 * The RPC part of RESULTS.md: the machine and command, how to read it, the speed targets, the
 * chart, then per RPC workload a table of every system at every concurrency and the phobos ratios.
 */
function renderRpcWorkloads(report: BenchReport, chartLink: string): string {
  const { machine, settings } = report;
  const targets = targetsLine(report);
  const lines: string[] = [
    '# Benchmark results',
    '',
    `Generated by \`${report.command}\` (${SETTINGS_NOTE[report.mode]}) on ${report.date}.`,
    '',
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${(machine.totalMemoryBytes / 1024 ** 3).toFixed(1)} GiB, ${machine.os}`,
    `- Node ${machine.node}; every server and client is its own process on loopback`,
    `- Each run: ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s measured; ${settings.rounds} round(s) per cell; the systems take turns within each cell (the order rotates), so noise hits all alike`,
    `- Systems: ${settings.systems.filter((system) => systemsFor('message1').includes(system)).join(', ')}${settings.skippedSystems.length > 0 ? ` (skipped, files missing: ${settings.skippedSystems.join(', ')})` : ''}. Each client uses one connection but http-pool: phobos its \`Client\`; grpc-js one channel (HTTP/2) with retries off (\`grpc.enable_retries: 0\`) and \`grpc-node.max_session_memory\` 1 GiB; http an undici \`Client\` pipelining up to 100 requests (\`blocking: false\`, \`idempotent: true\`, without which undici sends POSTs one at a time) to a node:http keep-alive server; http-pool an undici \`Pool\` of 10 keep-alive connections, one request at a time each, to the same server; raw-tcp a uint32 length-prefixed echo of the bytes phobos carries, no RPC work, the client's writes of one tick corked into one (the limit)`,
    '',
    'How to read it: calls/s counts the calls that succeeded in the measured window. Latency is',
    'measured from when each call was meant to start; the load is a closed loop (each of the N',
    "lanes starts its next call when its previous one ends), so a call's intended start is the end",
    "of its lane's previous call. CPU s / 10k is the process's CPU time (user + system, all threads)",
    'during the measured window per 10,000 calls; peak RSS is the largest resident set of the process',
    'over its life (warm-up included). Ratios are phobos divided by the peer: above 1 is better for',
    'throughput, below 1 is better for p99. Compare numbers only within one run.',
    '',
    targets,
    '',
    ...(targets.includes('not met') ? [SHORTFALL_NOTE, ''] : []),
    `![message1 throughput against calls in flight](${chartLink})`,
    '',
  ];
  for (const workload of RPC_WORKLOADS) {
    const concurrencies = concurrenciesOf(report, workload);
    if (concurrencies.length === 0) continue;
    lines.push(`## ${workload}`, '', `${WORKLOAD_DESCRIPTIONS[workload]}.`, '', ...TABLE_HEAD);
    const ratioRows: string[] = [];
    for (const concurrency of concurrencies) {
      lines.push(...tableRows(report, workload, concurrency, 'phobos'));
      const summaries = cell(report, workload, concurrency);
      const phobos = summaries.get('phobos');
      const peer = (name: SystemName, f: (p: CellSummary, q: CellSummary) => number): string => {
        const other = summaries.get(name);
        return phobos && other ? ratio(f(phobos, other)) : '–';
      };
      ratioRows.push(
        `| ${concurrency} | ${PEERS.map((name) => peer(name, (p, q) => p.callsPerSecond / q.callsPerSecond)).join(' | ')} | ${PEERS.map((name) => peer(name, (p, q) => p.p99Ms / q.p99Ms)).join(' | ')} |`,
      );
    }
    lines.push(
      '',
      'phobos / peer:',
      '',
      `| in flight | ${PEERS.map((name) => `calls/s vs ${name}`).join(' | ')} | ${PEERS.map((name) => `p99 vs ${name}`).join(' | ')} |`,
      `| --: | ${PEERS.map(() => '--:').join(' | ')} | ${PEERS.map(() => '--:').join(' | ')} |`,
      ...ratioRows,
      '',
    );
  }
  lines.push(...failedRuns(report, '## Failed runs', isRpcWorkload));
  return lines.join('\n').trimEnd();
}

/**
 * The Gateway section: the run that measured greet-json (command, machine, settings), the
 * systems and the one client configuration, the target, a table of the systems at every
 * concurrency and the ratios of both gateway paths to the bare server.
 */
function renderGateway(report: BenchReport): string {
  const { machine, settings } = report;
  const lines: string[] = [
    `${GATEWAY_HEADING} (greet-json)`,
    '',
    `Measured by \`${report.command}\` (${SETTINGS_NOTE[report.mode]}) on ${report.date}: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; each run ${settings.warmupSeconds} s warm-up, then ${settings.seconds} s measured; ${settings.rounds} round(s) per cell, the systems taking turns (the order rotates).`,
    '',
    `${WORKLOAD_DESCRIPTIONS['greet-json']}.`,
    '',
    '- **gateway**: the phobos `Gateway` (dist) in its own process, in front of a phobos `Server` with `HelloWorld.Greet` in another (`systems/gateway/`), as `examples/gateway` deploys them. The gateway checks the JSON, forwards each request as a JSON-serialized call over loopback TCP (an XClient, default options: failover, 30 s deadline, breaker) and passes the reply bytes back; the server decodes the JSON, greets and encodes the reply. Server CPU and RSS are both processes together.',
    '- **server-http**: a phobos `Server({ http: true })` with `HelloWorld.Greet`, answering HTTP on its own port and calling the service in process, no hop (`systems/server-http/`).',
    '- **http-bare**: node:http in one process, parsing the JSON and answering itself (no RPC hop).',
    `- Client, the same for all three: ${GREET_CLIENT_CONFIGURATION}. A status other than 200, a reply that is not JSON or not the greeting fails the call, and a failed call makes the run exit 1.`,
    '',
    gatewayTargetsLine(report),
    '',
    ...TABLE_HEAD,
  ];
  const ratioRows: string[] = [];
  for (const concurrency of concurrenciesOf(report, 'greet-json')) {
    lines.push(...tableRows(report, 'greet-json', concurrency, 'gateway'));
    const summaries = cell(report, 'greet-json', concurrency);
    const bare = summaries.get('http-bare');
    for (const path of ['gateway', 'server-http'] as const) {
      const measured = summaries.get(path);
      const of = (f: (s: CellSummary) => number): string =>
        measured && bare ? ratio(f(measured) / f(bare)) : '–';
      ratioRows.push(
        `| ${concurrency} | ${path} | ${of((s) => s.callsPerSecond)} | ${of((s) => s.p50Ms)} | ${of((s) => s.p99Ms)} | ${of((s) => s.serverCpuSecondsPer10k)} | ${of((s) => s.clientCpuSecondsPer10k)} |`,
      );
    }
  }
  lines.push(
    '',
    'Each path / http-bare (calls/s above 1× means the path is faster; latency and CPU below 1× mean it is lower):',
    '',
    '| in flight | path | calls/s | p50 | p99 | server CPU per call | client CPU per call |',
    '| --: | :-- | --: | --: | --: | --: | --: |',
    ...ratioRows,
    '',
    ...failedRuns(report, '### Failed runs', (workload) => !isRpcWorkload(workload)),
  );
  return lines.join('\n').trimEnd();
}

/**
 * The soak section of an existing RESULTS.md (from its heading to the end), if any.
 *
 * @example
 * ```ts
 * soakSectionOf('# Benchmark results\n\n## Soak\n...'); // '## Soak\n...'
 * ```
 */
export function soakSectionOf(markdown: string): string | undefined {
  const at = markdown.indexOf(`\n${SOAK_HEADING}`);
  return at === -1 ? undefined : markdown.slice(at + 1);
}
