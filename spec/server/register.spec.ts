import { describe, expect, it } from 'vitest';
import { Server, silentLogger } from '../../lib/index.js';

class Base {
  Inherited() {
    return 'base';
  }
  Overridden() {
    return 'base';
  }
}

class Impl extends Base {
  readonly field = 42;
  ownArrow = () => 'arrow';
  Own() {
    return 'own';
  }
  override Overridden() {
    return 'impl';
  }
  _private() {
    return 'hidden';
  }
  get Getter() {
    return 'getter';
  }
}

describe('Server.register', () => {
  it('exposes own and inherited methods, not the constructor, fields, getters or _names', () => {
    const server = new Server({ logger: silentLogger });
    server.register('Impl', new Impl());
    const [service] = server.registered();
    expect(service?.name).toBe('Impl');
    expect([...(service?.methods.keys() ?? [])].sort()).toEqual([
      'Inherited',
      'Overridden',
      'Own',
      'ownArrow',
    ]);
  });

  it('calls the most derived method with this bound to the implementation', async () => {
    const server = new Server({ logger: silentLogger });
    const impl = new (class {
      prefix = 'p-';
      Name(args: string) {
        return this.prefix + args;
      }
    })();
    server.register('Bound', impl);
    const method = server.registered()[0]?.methods.get('Name');
    expect(method?.invoke('x', undefined)).toBe('p-x');
    server.register('Impl', new Impl());
    expect(server.registered()[1]?.methods.get('Overridden')?.invoke(undefined, undefined)).toBe('impl');
  });

  it('keeps registry metadata as a URL query, from a string or a record', () => {
    const server = new Server({ logger: silentLogger });
    server.register('A', new Impl(), { metadata: 'weight=10&group=a' });
    server.register('B', new Impl(), { metadata: { weight: '5', group: 'b c' } });
    server.register('C', new Impl());
    expect(server.registered().map((service) => service.metadata)).toEqual([
      'weight=10&group=a',
      'weight=5&group=b+c',
      '',
    ]);
  });

  it('unregister removes a service and says whether it was there', () => {
    const server = new Server({ logger: silentLogger });
    server.register('A', new Impl());
    expect(server.unregister('A')).toBe(true);
    expect(server.unregister('A')).toBe(false);
    expect(server.registered()).toEqual([]);
    server.register('A', new Impl());
    expect(server.registered()).toHaveLength(1);
  });
});
