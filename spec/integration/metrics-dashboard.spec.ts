import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { Registry } from 'prom-client';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { HelloWorld } from '../../examples/gateway/service.js';
import {
  multipleServersDiscovery,
  retryBudget,
  type Selector,
  XClient,
  type XClientEvent,
} from '../../lib/index.js';
import { clientMetrics, serveMetrics, serverMetrics } from '../../lib/metrics/index.js';
import { trackHandles } from '../support/handles.js';
import {
  type PrometheusSample,
  type PrometheusServer,
  type PrometheusVector,
  startPrometheus,
  stopAllPrometheus,
} from '../support/prometheus.js';
import { rawClient } from '../support/raw-peer.js';
import { startServer } from '../support/servers.js';

afterAll(stopAllPrometheus);
const { defer } = trackHandles();

const DASHBOARD_FILE = new URL('../../examples/metrics/grafana-dashboard.json', import.meta.url);

/**
 * What `$__rate_interval` (and the other interval variables) stand for: wider than the whole test,
 * so a rate sees every scrape made.
 */
const RATE_WINDOW = '1m';

/** The series the dashboard is asked to show, each of which some query must read. */
const REQUIRED_METRICS = [
  'phobos_server_started_total',
  'phobos_server_handled_total',
  'phobos_server_handling_seconds_bucket',
  'phobos_server_msg_received_bytes_bucket',
  'phobos_server_msg_sent_bytes_bucket',
  'phobos_server_in_flight',
  'phobos_server_connections',
  'phobos_server_connections_accepted_total',
  'phobos_server_protocol_errors_total',
  'phobos_client_started_total',
  'phobos_client_handled_total',
  'phobos_client_handling_seconds_bucket',
  'phobos_client_msg_sent_bytes_bucket',
  'phobos_client_msg_received_bytes_bucket',
  'phobos_client_in_flight',
  'phobos_client_attempts_total',
  'phobos_client_retry_budget_exhausted_total',
  'phobos_client_breaker_state',
  'phobos_client_breaker_transitions_total',
  'phobos_client_instances',
  'phobos_client_connections',
  'phobos_client_heartbeat_rtt_seconds_bucket',
];

/** What a panel, a query or a variable names as its data source: the `datasource` variable. */
const ON_DATASOURCE_VARIABLE = {
  type: 'prometheus',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's syntax for a variable.
  uid: '${datasource}',
};

/** The data source chosen for the `DS_PROMETHEUS` input on import, which Grafana writes in its place. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's syntax for an input.
const IMPORTED_DATASOURCE = '${DS_PROMETHEUS}';

/** Variables Grafana defines by itself, which a query may use without declaring them. */
const BUILT_IN_VARIABLES = new Set(['__rate_interval', '__interval', '__range']);

type Json = Readonly<Record<string, unknown>>;

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly legendFormat: string;
  readonly datasource: unknown;
}

interface GridPos {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

interface Panel {
  readonly id: unknown;
  readonly title: string;
  readonly type: unknown;
  readonly datasource: unknown;
  readonly gridPos: GridPos;
  readonly targets: readonly Target[];
}

interface Variable {
  readonly name: string;
  readonly type: unknown;
  /** The query, whether written as a string or as Grafana 10's `{ query }` object. */
  readonly query: string;
  readonly raw: Json;
}

interface Dashboard {
  readonly raw: Json;
  readonly panels: readonly Panel[];
  readonly variables: readonly Variable[];
}

function record(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} is not an object`);
  return value as Json;
}

function array(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not an array`);
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  return value;
}

function integer(value: unknown, what: string): number {
  if (!Number.isInteger(value)) throw new Error(`${what} is not an integer`);
  return value as number;
}

/** Reads the dashboard file, failing with the path of the first field that has the wrong type. */
async function readDashboard(): Promise<Dashboard> {
  const raw = record(JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')), 'the dashboard');
  const panels = array(raw.panels, 'panels').map((value, index): Panel => {
    const panel = record(value, `panels[${index}]`);
    const title = text(panel.title, `panels[${index}].title`);
    const grid = record(panel.gridPos, `${title}: gridPos`);
    return {
      id: panel.id,
      title,
      type: panel.type,
      datasource: panel.datasource,
      gridPos: {
        x: integer(grid.x, `${title}: gridPos.x`),
        y: integer(grid.y, `${title}: gridPos.y`),
        w: integer(grid.w, `${title}: gridPos.w`),
        h: integer(grid.h, `${title}: gridPos.h`),
      },
      targets: array(panel.targets ?? [], `${title}: targets`).map((entry, at): Target => {
        const target = record(entry, `${title}: targets[${at}]`);
        return {
          refId: text(target.refId, `${title}: targets[${at}].refId`),
          expr: text(target.expr, `${title}: targets[${at}].expr`),
          legendFormat: typeof target.legendFormat === 'string' ? target.legendFormat : '',
          datasource: target.datasource,
        };
      }),
    };
  });
  const templating = record(raw.templating, 'templating');
  const variables = array(templating.list, 'templating.list').map((value, index): Variable => {
    const variable = record(value, `templating.list[${index}]`);
    const name = text(variable.name, `templating.list[${index}].name`);
    const query =
      typeof variable.query === 'string'
        ? variable.query
        : text(record(variable.query, `variable ${name}: query`).query, `variable ${name}: query.query`);
    return { name, type: variable.type, query, raw: variable };
  });
  return { raw, panels, variables };
}

/** The values of the variables a query is evaluated with, by name without the `$`. */
type Selection = Readonly<Record<string, string>>;

/** Replaces `$name` and `${name}` (and `${name:format}`); throws naming a variable it does not know. */
function interpolate(expr: string, selection: Selection): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? whole;
    const value = selection[name];
    if (value === undefined) throw new Error(`the query uses $${name}, which is not defined`);
    return value;
  });
}

/**
 * How Grafana's Prometheus data source writes the values picked in a multi-value variable into a
 * query: each escaped for a regex inside a PromQL string, joined as `(a|b)`.
 */
function multiValue(values: readonly string[]): string {
  const escaped = values.map((value) =>
    value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&'),
  );
  return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
}

/** `label_values(selector, label)` as the PromQL that lists the same values, one series each. */
function labelValuesQuery(query: string): { promql: string; label: string } {
  const match = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(query.trim());
  if (match === null) throw new Error(`not a label_values(selector, label) query: ${query}`);
  const [, selector, label] = match as unknown as [string, string, string];
  return { promql: `count by (${label}) (${selector})`, label };
}

/** The labels a legend shows (`{{code}}`), which every series of its query must carry. */
function legendLabels(legendFormat: string): string[] {
  return [...legendFormat.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map(
    (match) => match[1] as string,
  );
}

function labelValues(series: readonly PrometheusSample[], label: string): string[] {
  return [...new Set(series.map((sample) => sample.metric[label] ?? ''))].sort();
}

function numberOf(sample: PrometheusSample | undefined): number {
  return Number(sample?.value[1]);
}

/** The one sample whose labels include `labels`; fails when there is not exactly one. */
function sampleWith(series: readonly PrometheusSample[], labels: Readonly<Record<string, string>>) {
  const found = series.filter((sample) =>
    Object.entries(labels).every(([name, value]) => sample.metric[name] === value),
  );
  expect(found, `one series with ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0];
}

/**
 * Evaluates one query and says what is wrong with its answer: refused, no series, a series
 * without a label its legend shows, or no finite value. Empty when it is sound.
 */
async function problemsOf(
  prometheus: PrometheusServer,
  promql: string,
  legendFormat: string,
): Promise<{ series: PrometheusVector; problems: string[] }> {
  let series: PrometheusVector;
  try {
    series = await prometheus.query(promql);
  } catch (error) {
    return { series: [], problems: [(error as Error).message] };
  }
  if (series.length === 0) return { series, problems: ['returned no series'] };
  const problems: string[] = [];
  for (const label of legendLabels(legendFormat)) {
    const without = series.filter((sample) => sample.metric[label] === undefined);
    if (without.length > 0)
      problems.push(`${without.length} of ${series.length} series lack the label "${label}" of the legend`);
  }
  if (!series.some((sample) => Number.isFinite(numberOf(sample))))
    problems.push('no series has a finite value');
  return { series, problems };
}

/** Who is who in the world the dashboard is checked against. */
interface World {
  /** Keys of the servers nothing listens on: the first one's breaker opens. */
  readonly dead: readonly [string, string];
  /** Keys of the two live servers. */
  readonly live: readonly [string, string];
  /** `host:port` of the /metrics of each server, then of the client. */
  readonly serverTargets: readonly [string, string];
  readonly clientTarget: string;
}

/**
 * What some panels must show in that world, beyond having series: the error codes, reasons,
 * outcomes and breaker states its traffic made. Keyed by panel title; each runs `expect`.
 */
const EXPECTED: Readonly<Record<string, (series: PrometheusVector, world: World) => void>> = {
  'Server: requests/s': (series) => expect(numberOf(series[0])).toBeGreaterThan(0),
  'Server: error ratio': (series) => {
    expect(numberOf(series[0])).toBeGreaterThan(0);
    expect(numberOf(series[0])).toBeLessThan(1);
  },
  'Client: error ratio': (series) => {
    expect(numberOf(series[0])).toBeGreaterThan(0);
    expect(numberOf(series[0])).toBeLessThan(1);
  },
  'Client: open circuit breakers': (series) => expect(numberOf(series[0])).toBe(1),
  'Server: requests/s by method': (series) =>
    expect(numberOf(sampleWith(series, { service: 'HelloWorld', method: 'Greet' }))).toBeGreaterThan(0),
  'Server: errors/s by code': (series) => {
    expect(labelValues(series, 'code')).toEqual(expect.arrayContaining(['NOT_FOUND', 'UNKNOWN']));
    expect(labelValues(series, 'code')).not.toContain('OK');
  },
  'Server: connections': (series, world) =>
    expect(labelValues(series, 'instance')).toEqual([...world.serverTargets].sort()),
  'Server: protocol errors/s by reason': (series) =>
    expect(numberOf(sampleWith(series, { reason: 'malformed' }))).toBeGreaterThan(0),
  'Client: errors/s by code': (series) => {
    expect(labelValues(series, 'code')).toEqual(
      expect.arrayContaining(['NOT_FOUND', 'UNAVAILABLE', 'UNKNOWN']),
    );
    expect(labelValues(series, 'code')).not.toContain('OK');
  },
  'Client: attempts/s by outcome': (series) =>
    expect(labelValues(series, 'outcome')).toEqual(expect.arrayContaining(['first', 'retry'])),
  'Client: retry budget exhausted/s': (series) =>
    expect(labelValues(series, 'service')).toEqual(['HelloWorld']),
  'Client: circuit breaker state per server': (series, world) => {
    const states = Object.fromEntries(
      series.map((sample) => [sample.metric.exported_instance ?? '', numberOf(sample)]),
    );
    expect(states).toEqual({
      [world.dead[0]]: 2,
      [world.dead[1]]: 0,
      [world.live[0]]: 0,
      [world.live[1]]: 0,
    });
  },
  'Client: breaker transitions/s': (series, world) =>
    sampleWith(series, { exported_instance: world.dead[0], to: 'open' }),
  'Client: servers per service': (series) => {
    expect(numberOf(sampleWith(series, { service: 'HelloWorld', state: 'discovered' }))).toBe(4);
    expect(numberOf(sampleWith(series, { service: 'HelloWorld', state: 'usable' }))).toBe(2);
  },
  'Client: open connections': (series) =>
    expect(numberOf(sampleWith(series, { service: 'HelloWorld' }))).toBe(2),
  'Client: heartbeat RTT p99': (series) => expect(numberOf(series[0])).toBeGreaterThan(0),
};

/** A HelloWorld server on a free loopback port, its metrics in a registry of its own on /metrics. */
async function serverWithMetrics(): Promise<{ address: string; target: string }> {
  const registry = new Registry();
  const { address } = await startServer(defer, (server) => {
    server.register('HelloWorld', new HelloWorld());
    serverMetrics(server, { registry });
  });
  const metrics = await serveMetrics({ address: '127.0.0.1:0', registry });
  defer(() => metrics.close());
  return { address, target: new URL(metrics.url).host };
}

/** `tcp@127.0.0.1:port` where nothing listens (bound, then freed). */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `tcp@127.0.0.1:${port}`;
}

/** Picks a dead server while one is offered, else the live ones in turn: the same story every run. */
function deadFirst(dead: ReadonlySet<string>): Selector {
  let turn = 0;
  return {
    select: (instances) =>
      instances.find((instance) => dead.has(instance.key)) ?? instances[turn++ % instances.length],
  };
}

/**
 * Calls that succeed (on both live servers, in turn), fail in the handler (UNKNOWN) and name no
 * method (NOT_FOUND); and a peer that sends garbage (a malformed frame) to each server.
 */
async function traffic(client: XClient, servers: readonly string[]): Promise<void> {
  for (const name of ['a', 'b', 'c', 'd'])
    await expect(client.call('Greet', { First: name })).resolves.toEqual({ Second: `Hello ${name}` });
  await expect(client.call('Greet', { First: 42 })).rejects.toMatchObject({ name: 'ServiceError' });
  await expect(client.call('Nope', {})).rejects.toMatchObject({
    name: 'ServiceError',
    details: { reason: 'NOT_FOUND' },
  });
  for (const server of servers) {
    const peer = await rawClient(server);
    peer.send(Buffer.from('not a frame, by any measure, at all'));
    await peer.closed;
  }
}

/** The client's next heartbeat round trip, within 5 s. */
function nextHeartbeat(client: XClient): Promise<XClientEvent> {
  return firstValueFrom(
    client.events$.pipe(
      filter((event) => event.type === 'heartbeat'),
      timeout({ first: 5_000 }),
    ),
  );
}

describe('examples/metrics/grafana-dashboard.json', { timeout: 60_000 }, () => {
  it('is a Grafana 10 dashboard with a datasource input and variable, service and instance variables, and titled panels on the datasource variable', async () => {
    const { raw, panels, variables } = await readDashboard();
    expect(raw.schemaVersion).toBeGreaterThanOrEqual(38);
    expect(raw.title).toEqual(expect.any(String));
    expect(raw.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(array(raw.__inputs, '__inputs')).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    );

    const byName = new Map(variables.map((variable) => [variable.name, variable]));
    expect([...byName.keys()]).toEqual(['datasource', 'service', 'instance']);
    const datasource = byName.get('datasource');
    expect(datasource?.type).toBe('datasource');
    expect(datasource?.query).toBe('prometheus');
    // The data source picked on import is the variable's default.
    expect(record(datasource?.raw.current, 'datasource.current').value).toBe(IMPORTED_DATASOURCE);
    for (const name of ['service', 'instance']) {
      const variable = byName.get(name);
      expect(variable?.type, name).toBe('query');
      expect(variable?.raw, name).toMatchObject({
        datasource: ON_DATASOURCE_VARIABLE,
        multi: true,
        includeAll: true,
        allValue: '.*',
      });
      expect(labelValuesQuery(variable?.query ?? '').label, name).toBe(name);
      expect(variable?.raw.definition, name).toBe(variable?.query);
    }

    // The sixteen views asked for, at least.
    expect(panels.length).toBeGreaterThanOrEqual(16);
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(panels.length);
    expect(new Set(panels.map((panel) => panel.title)).size, 'panel titles are unique').toBe(panels.length);
    const cells = new Map<string, string>();
    const uses = new Set<string>();
    for (const panel of panels) {
      expect(panel.title.trim(), `panel ${String(panel.id)}`).not.toBe('');
      expect(['timeseries', 'stat'], panel.title).toContain(panel.type);
      expect(panel.datasource, panel.title).toEqual(ON_DATASOURCE_VARIABLE);
      expect(panel.targets.length, `${panel.title}: targets`).toBeGreaterThan(0);
      expect(new Set(panel.targets.map((target) => target.refId)).size, `${panel.title}: refIds`).toBe(
        panel.targets.length,
      );
      for (const target of panel.targets) {
        expect(target.expr.trim(), `${panel.title} ${target.refId}`).not.toBe('');
        expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(ON_DATASOURCE_VARIABLE);
        for (const [, braced, bare] of target.expr.matchAll(/\$\{(\w+)[^}]*\}|\$(\w+)/g)) {
          const name = braced ?? bare ?? '';
          expect(byName.has(name) || BUILT_IN_VARIABLES.has(name), `${panel.title}: $${name}`).toBe(true);
        }
        for (const metric of REQUIRED_METRICS)
          if (new RegExp(`\\b${metric}\\b`).test(target.expr)) uses.add(metric);
      }
      // On the 24-column grid, and no two panels on one cell.
      const { x, y, w, h } = panel.gridPos;
      expect(x >= 0 && w >= 1 && x + w <= 24 && y >= 0 && h >= 1, `${panel.title}: gridPos`).toBe(true);
      for (let column = x; column < x + w; column++)
        for (let row = y; row < y + h; row++) {
          const cell = `${column},${row}`;
          expect(cells.get(cell), `${panel.title} overlaps another panel at ${cell}`).toBeUndefined();
          cells.set(cell, panel.title);
        }
    }
    expect(
      REQUIRED_METRICS.filter((metric) => !uses.has(metric)),
      'metrics no panel reads',
    ).toEqual([]);
    const titles = new Set(panels.map((panel) => panel.title));
    expect(
      Object.keys(EXPECTED).filter((title) => !titles.has(title)),
      'expectations for panels not in the dashboard',
    ).toEqual([]);
  });

  it('every query of every panel returns the series it shows from a real Prometheus scraping two servers and a failing XClient', async () => {
    const dashboard = await readDashboard();
    const [one, two] = [await serverWithMetrics(), await serverWithMetrics()];
    const dead = [await deadAddress(), await deadAddress()] as const;
    const live = [one.address, two.address] as const;

    const discovery = multipleServersDiscovery([...dead, ...live].map((address) => ({ address })));
    const client = new XClient('HelloWorld', {
      discovery,
      selectMode: deadFirst(new Set(dead)),
      failMode: 'failtry',
      retries: 1,
      // One retry, ever: the clock stands still, so the budget never refills.
      retryBudget: retryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1_000, clock: () => 0 }),
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 60_000 },
      heartbeat: { intervalMs: 50 },
    });
    defer(async () => {
      discovery.close();
      await client.close();
    });
    const clientRegistry = new Registry();
    clientMetrics(client, { registry: clientRegistry });
    const clientMetricsServer = await serveMetrics({ address: '127.0.0.1:0', registry: clientRegistry });
    defer(() => clientMetricsServer.close());
    const world: World = {
      dead,
      live,
      serverTargets: [one.target, two.target],
      clientTarget: new URL(clientMetricsServer.url).host,
    };
    const budgetSpent: XClientEvent[] = [];
    const watch = client.events$.subscribe((event) => {
      if (event.type === 'retry-budget-exhausted') budgetSpent.push(event);
    });
    defer(() => watch.unsubscribe());

    // Before the first scrape, so that every series has a sample there and rates have two.
    // The first dead server fails twice (a retry): its breaker opens. The second fails once and
    // its retry is refused by the spent budget; its breaker stays closed, its dial has failed.
    await expect(client.call('Greet', { First: 'x' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(client.call('Greet', { First: 'y' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(budgetSpent).toHaveLength(1);
    await traffic(client, live);
    await nextHeartbeat(client);

    const prometheus = await startPrometheus({
      targets: [...world.serverTargets, world.clientTarget],
    });
    defer(() => prometheus.stop());
    await prometheus.waitForScrape();
    await traffic(client, live);
    await nextHeartbeat(client);
    // A scrape that had begun before the traffic above may be the next one committed; the one
    // after it began later, and holds all of it.
    await prometheus.waitForNextScrape();
    await prometheus.waitForNextScrape();

    // The checker finds what it is for: an empty answer, and a label a legend shows but a series lacks.
    expect(
      (await problemsOf(prometheus, 'phobos_server_started_total{service="NoSuchService"}', '')).problems,
    ).toEqual(['returned no series']);
    expect((await problemsOf(prometheus, 'sum(phobos_server_started_total)', '{{method}}')).problems).toEqual(
      ['1 of 1 series lack the label "method" of the legend'],
    );

    // What the variables offer to pick, as Grafana lists them.
    const offered = new Map<string, string[]>();
    for (const variable of dashboard.variables.filter(({ type }) => type === 'query')) {
      const { promql, label } = labelValuesQuery(variable.query);
      offered.set(variable.name, labelValues(await prometheus.query(promql), label));
    }
    expect(offered.get('service')).toContain('HelloWorld');
    expect(offered.get('instance')).toEqual([...world.serverTargets, world.clientTarget].sort());

    // What a variable set to All stands for in a query.
    const allValue = (name: string): string =>
      text(dashboard.variables.find((variable) => variable.name === name)?.raw.allValue, `${name}.allValue`);
    const intervals = { __rate_interval: RATE_WINDOW, __interval: RATE_WINDOW, __range: RATE_WINDOW };
    const selections: readonly (readonly [string, Selection])[] = [
      ['All', { service: allValue('service'), instance: allValue('instance'), ...intervals }],
      [
        'every value picked',
        {
          service: multiValue(offered.get('service') ?? []),
          instance: multiValue(offered.get('instance') ?? []),
          ...intervals,
        },
      ],
    ];
    const failures: string[] = [];
    const counted: { selection: string; panels: number; queries: number }[] = [];
    let targetsInFile = 0;
    for (const panel of dashboard.panels) targetsInFile += panel.targets.length;
    for (const [selectionName, selection] of selections) {
      let panelsEvaluated = 0;
      let targetsEvaluated = 0;
      for (const panel of dashboard.panels) {
        const shown: PrometheusSample[] = [];
        for (const target of panel.targets) {
          let promql = target.expr;
          try {
            promql = interpolate(target.expr, selection);
          } catch (error) {
            failures.push(
              `${panel.title} [${target.refId}] (${selectionName}) ${target.expr}: ${(error as Error).message}`,
            );
            continue;
          }
          const { series, problems } = await problemsOf(prometheus, promql, target.legendFormat);
          targetsEvaluated++;
          shown.push(...series);
          for (const problem of problems)
            failures.push(`${panel.title} [${target.refId}] (${selectionName}) ${promql}: ${problem}`);
        }
        try {
          EXPECTED[panel.title]?.(shown, world);
        } catch (error) {
          failures.push(`${panel.title} (${selectionName}): ${(error as Error).message}`);
        }
        panelsEvaluated++;
      }
      counted.push({ selection: selectionName, panels: panelsEvaluated, queries: targetsEvaluated });
    }
    expect(failures, 'panels whose queries do not show what they should').toEqual([]);
    // Not vacuous: every panel and every query of the file was evaluated, with each selection.
    expect(counted).toEqual(
      selections.map(([selection]) => ({
        selection,
        panels: dashboard.panels.length,
        queries: targetsInFile,
      })),
    );
    expect(targetsInFile).toBeGreaterThanOrEqual(dashboard.panels.length);
  });
});
