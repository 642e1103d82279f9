import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Discovery,
  formatMetadata,
  inGroup,
  memoryRegistry,
  type ServiceInstance,
} from '../../lib/discovery/index.js';
import type { ServiceRegistry } from '../../lib/discovery/service-registry.js';
import { thrown } from '../support/thrown.js';
import { type Recording, record } from './record.js';

const keys = (list: readonly ServiceInstance[] | undefined) => list?.map((instance) => instance.key);

describe('memoryRegistry', () => {
  it('memoryRegistry - is a ServiceRegistry a server can register into', () => {
    const registry: ServiceRegistry = memoryRegistry();
    expect(registry.register('Arith', 'tcp@127.0.0.1:8972', 'weight=10')).toBeUndefined();
    expect(registry.unregister('Arith', 'tcp@127.0.0.1:8972')).toBeUndefined();
  });

  it('memoryRegistry - replays the current list to a subscriber, ordered by key', () => {
    const registry = memoryRegistry();
    registry.register('Arith', 'tcp@h:2', 'weight=5');
    registry.register('Arith', 'tcp@h:1');
    const seen = record(registry.discovery('Arith').instances$);
    expect(seen.values).toHaveLength(1);
    expect(seen.latest()).toEqual([
      { key: 'tcp@h:1', address: 'tcp@h:1', metadata: {} },
      { key: 'tcp@h:2', address: 'tcp@h:2', metadata: { weight: '5' } },
    ]);
    expect(Object.isFrozen(seen.latest())).toBe(true);
  });

  it('memoryRegistry - emits an empty list for a service nobody registered', () => {
    const seen = record(memoryRegistry().discovery('Nobody').instances$);
    expect(seen.values).toEqual([[]]);
    expect(seen.completed).toBe(false);
  });

  it('memoryRegistry - emits on register and unregister', () => {
    const registry = memoryRegistry();
    const seen = record(registry.discovery('Arith').instances$);
    registry.register('Arith', 'tcp@h:1');
    registry.register('Arith', 'unix@/tmp/a.sock');
    registry.unregister('Arith', 'tcp@h:1');
    expect(seen.values.map(keys)).toEqual([
      [],
      ['tcp@h:1'],
      ['tcp@h:1', 'unix@/tmp/a.sock'],
      ['unix@/tmp/a.sock'],
    ]);
    expect(keys(registry.instances('Arith'))).toEqual(['unix@/tmp/a.sock']);
  });

  it('memoryRegistry - replaces the metadata when the same address registers again', () => {
    const registry = memoryRegistry();
    const seen = record(registry.discovery('Arith').instances$);
    registry.register('Arith', 'tcp@h:1', 'weight=1');
    registry.register('Arith', 'tcp@h:1', 'weight=2&state=inactive');
    expect(seen.values.map((list) => list.map((instance) => ({ ...instance.metadata })))).toEqual([
      [],
      [{ weight: '1' }],
      [{ weight: '2', state: 'inactive' }],
    ]);
  });

  it('memoryRegistry - does not emit when nothing changed', () => {
    const registry = memoryRegistry();
    registry.register('Arith', 'tcp@h:1', 'weight=1');
    const seen = record(registry.discovery('Arith').instances$);
    registry.register('Arith', 'tcp@h:1', 'weight=1');
    registry.unregister('Arith', 'tcp@h:2');
    registry.unregister('Other', 'tcp@h:1');
    expect(seen.values).toHaveLength(1);
  });

  it('memoryRegistry - keys an instance by the address as registered', () => {
    const registry = memoryRegistry();
    registry.register('Arith', '127.0.0.1:1');
    registry.register('Arith', 'tcp@127.0.0.1:1');
    expect(keys(registry.instances('Arith'))).toEqual(['127.0.0.1:1', 'tcp@127.0.0.1:1']);
  });

  it('memoryRegistry - leaves a service unaffected by changes to another', () => {
    const registry = memoryRegistry();
    const arith = record(registry.discovery('Arith').instances$);
    const echo = record(registry.discovery('Echo').instances$);
    registry.register('Echo', 'tcp@h:1');
    registry.register('Echo', 'tcp@h:2');
    registry.unregister('Echo', 'tcp@h:1');
    expect(arith.values).toEqual([[]]);
    expect(echo.values).toHaveLength(4);
    expect(registry.instances('Arith')).toEqual([]);
  });

  it('memoryRegistry - handles service names like __proto__ as ordinary names', () => {
    const registry = memoryRegistry();
    registry.register('__proto__', 'tcp@h:1', '__proto__=x');
    expect(keys(registry.instances('__proto__'))).toEqual(['tcp@h:1']);
    expect(registry.instances('constructor')).toEqual([]);
  });

  it('memoryRegistry - reports only the group asked for, and stays quiet on changes outside it', () => {
    const registry = memoryRegistry();
    const blue = record(registry.discovery('Arith', { group: 'blue' }).instances$);
    registry.register('Arith', 'tcp@h:1', 'group=red');
    registry.register('Arith', 'tcp@h:2', `group=${encodeURIComponent('red,blue')}`);
    registry.register('Arith', 'tcp@h:3', 'group=blue&state=inactive');
    registry.register('Arith', 'tcp@h:1', 'group=red&weight=9');
    expect(blue.values.map(keys)).toEqual([[], ['tcp@h:2'], ['tcp@h:2', 'tcp@h:3']]);
  });

  it('memoryRegistry - completes one discovery on its close, leaving the others watching', () => {
    const registry = memoryRegistry();
    const closing = registry.discovery('Arith');
    const first = record(closing.instances$);
    const other = record(registry.discovery('Arith').instances$);
    closing.close?.();
    closing.close?.();
    registry.register('Arith', 'tcp@h:1');
    expect(first.completed).toBe(true);
    expect(first.values).toEqual([[]]);
    expect(other.values.map(keys)).toEqual([[], ['tcp@h:1']]);
    const late = record(closing.instances$);
    expect(late.completed).toBe(true);
    expect(late.values).toEqual([]);
  });

  it('memoryRegistry - completes every watch on close and ignores later changes', () => {
    const registry = memoryRegistry();
    registry.register('Arith', 'tcp@h:1');
    const seen = record(registry.discovery('Arith').instances$);
    registry.close();
    registry.close();
    registry.register('Arith', 'tcp@h:2');
    registry.unregister('Arith', 'tcp@h:1');
    expect(seen.completed).toBe(true);
    expect(seen.values).toHaveLength(1);
    expect(registry.instances('Arith')).toEqual([]);
    const late = record(registry.discovery('Arith').instances$);
    expect(late.completed).toBe(true);
    expect(late.values).toEqual([]);
  });

  it.each<[string, (registry: ReturnType<typeof memoryRegistry>) => unknown, ErrorConstructor, RegExp]>([
    ['an empty service', (r) => r.register('', 'tcp@h:1'), RangeError, /^register service must not be empty/],
    [
      'a non-string service',
      (r) => r.register(1 as never, 'tcp@h:1'),
      TypeError,
      /^register service must be a string/,
    ],
    [
      'a bad address',
      (r) => r.register('A', 'tcp@h'),
      RangeError,
      /^register address: address "tcp@h" has no port/,
    ],
    [
      'a non-string address',
      (r) => r.register('A', null as never),
      TypeError,
      /^register address must be a string/,
    ],
    ['malformed metadata', (r) => r.register('A', 'tcp@h:1', 'a=%'), RangeError, /^register metadata: /],
    [
      'non-string metadata',
      (r) => r.register('A', 'tcp@h:1', {} as never),
      TypeError,
      /^register metadata must/,
    ],
    ['a bad unregister address', (r) => r.unregister('A', 'x@y'), RangeError, /^unregister address: /],
    ['an empty unregister service', (r) => r.unregister('', 'tcp@h:1'), RangeError, /^unregister service/],
    [
      'an empty discovery service',
      (r) => r.discovery(''),
      RangeError,
      /^discovery service must not be empty/,
    ],
    [
      'non-object discovery options',
      (r) => r.discovery('A', 'blue' as never),
      TypeError,
      /^discovery options/,
    ],
    ['an empty group', (r) => r.discovery('A', { group: '' }), RangeError, /^discovery group/],
    ['a group with a comma', (r) => r.discovery('A', { group: 'a,b' }), RangeError, /^discovery group/],
    ['an empty instances service', (r) => r.instances(''), RangeError, /^instances service/],
  ])('memoryRegistry - rejects %s', (_, action, kind, message) => {
    const error = thrown(() => action(memoryRegistry()));
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toMatch(message);
  });
});

// Model-based: random commands against the registry and a plain model of it.

const SERVICES = ['Arith', 'Echo', '__proto__'] as const;
const ADDRESSES = ['tcp@127.0.0.1:1', 'tcp@127.0.0.1:2', '127.0.0.1:3', 'unix@/tmp/p.sock'] as const;
const GROUPS = ['blue', 'red'] as const;

type Model = Map<string, Map<string, Record<string, string>>>;

interface Real {
  readonly registry: ReturnType<typeof memoryRegistry>;
  readonly watches: readonly {
    service: string;
    group?: string;
    recording: Recording<readonly ServiceInstance[]>;
  }[];
}

function modelList(model: Model, service: string, group?: string): ServiceInstance[] {
  const servers = model.get(service) ?? new Map<string, Record<string, string>>();
  const list = [...servers.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([address, metadata]) => ({ key: address, address, metadata }));
  return group === undefined ? list : list.filter((instance) => inGroup(instance, group));
}

function plain(list: readonly ServiceInstance[] | undefined) {
  return list?.map((instance) => ({ ...instance, metadata: { ...instance.metadata } }));
}

function checkAll(model: Model, real: Real): void {
  for (const { service, group, recording } of real.watches) {
    expect(plain(recording.latest())).toEqual(modelList(model, service, group));
    expect(recording.completed).toBe(false);
  }
  for (const service of SERVICES) {
    expect(plain(real.registry.instances(service))).toEqual(modelList(model, service));
  }
  // A late subscriber sees the same list at once.
  const service = SERVICES[0];
  const late = record(real.registry.discovery(service).instances$);
  expect(late.values).toHaveLength(1);
  expect(plain(late.latest())).toEqual(modelList(model, service));
  late.stop();
}

class Register implements fc.Command<Model, Real> {
  constructor(
    readonly service: string,
    readonly address: string,
    readonly metadata: Record<string, string>,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    real.registry.register(this.service, this.address, formatMetadata(this.metadata));
    const servers = model.get(this.service) ?? new Map<string, Record<string, string>>();
    servers.set(this.address, this.metadata);
    model.set(this.service, servers);
    checkAll(model, real);
  }
  toString = () => `register(${this.service}, ${this.address}, ${formatMetadata(this.metadata)})`;
}

class Unregister implements fc.Command<Model, Real> {
  constructor(
    readonly service: string,
    readonly address: string,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    real.registry.unregister(this.service, this.address);
    model.get(this.service)?.delete(this.address);
    checkAll(model, real);
  }
  toString = () => `unregister(${this.service}, ${this.address})`;
}

/** Re-registers an address the model holds, with new metadata. */
class Update implements fc.Command<Model, Real> {
  constructor(
    readonly service: string,
    readonly pick: number,
    readonly metadata: Record<string, string>,
  ) {}
  check = (model: Readonly<Model>) => (model.get(this.service)?.size ?? 0) > 0;
  run(model: Model, real: Real): void {
    const addresses = [...(model.get(this.service)?.keys() ?? [])];
    const address = addresses[this.pick % addresses.length] as string;
    new Register(this.service, address, this.metadata).run(model, real);
  }
  toString = () => `update(${this.service}, #${this.pick}, ${formatMetadata(this.metadata)})`;
}

const serviceArb = fc.constantFrom(...SERVICES);
const addressArb = fc.constantFrom(...ADDRESSES);
const metadataArb = fc.record(
  {
    weight: fc.constantFrom('1', '5', '10'),
    group: fc.constantFrom('blue', 'red', 'blue,red', 'red, blue', ''),
    state: fc.constantFrom('active', 'inactive'),
    ['__proto__']: fc.constantFrom('x', 'y'),
  },
  { requiredKeys: [] },
);

describe('memoryRegistry (model-based)', () => {
  it('memoryRegistry - every discovery ends each random command with the model list, ordered by key', () => {
    const commands = [
      fc.tuple(serviceArb, addressArb, metadataArb).map(([s, a, m]) => new Register(s, a, m)),
      fc.tuple(serviceArb, addressArb).map(([s, a]) => new Unregister(s, a)),
      fc.tuple(serviceArb, fc.nat(10), metadataArb).map(([s, p, m]) => new Update(s, p, m)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
        const registry = memoryRegistry();
        const watches: Real['watches'][number][] = [];
        for (const service of SERVICES) {
          watches.push({ service, recording: record(registry.discovery(service).instances$) });
          for (const group of GROUPS) {
            const discovery: Discovery = registry.discovery(service, { group });
            watches.push({ service, group, recording: record(discovery.instances$) });
          }
        }
        const model: Model = new Map();
        checkAll(model, { registry, watches });
        fc.modelRun(() => ({ model, real: { registry, watches } }), cmds);
        for (const { recording } of watches) {
          for (let index = 1; index < recording.values.length; index += 1) {
            expect(plain(recording.values[index])).not.toEqual(plain(recording.values[index - 1]));
          }
        }
        registry.close();
        for (const { recording } of watches) expect(recording.completed).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
