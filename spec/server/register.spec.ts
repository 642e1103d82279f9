import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
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

  it('stops at built-in base classes: EventEmitter, streams, Map, Error expose nothing of their own', () => {
    const server = new Server({ logger: silentLogger });
    class Emitter extends EventEmitter {
      Ping() {
        return 'pong';
      }
    }
    class Source extends Readable {
      Read() {
        return 'r';
      }
    }
    class Table extends Map<string, string> {
      Lookup() {
        return 'l';
      }
    }
    class Failure extends Error {
      Explain() {
        return 'e';
      }
    }
    server.register('Emitter', new Emitter());
    server.register('Source', new Source());
    server.register('Table', new Table());
    server.register('Failure', new Failure('x'));
    const names = Object.fromEntries(server.registered().map((s) => [s.name, [...s.methods.keys()]]));
    expect(names).toEqual({ Emitter: ['Ping'], Source: ['Read'], Table: ['Lookup'], Failure: ['Explain'] });
  });

  it('methods - an allow-list exposes exactly the names given, inherited built-ins included', () => {
    const server = new Server({ logger: silentLogger });
    class Emitter extends EventEmitter {
      Ping() {
        return 'pong';
      }
      Other() {
        return 'other';
      }
    }
    server.register('Emitter', new Emitter(), { methods: ['Ping', 'emit'] });
    expect([...(server.registered()[0]?.methods.keys() ?? [])]).toEqual(['Ping', 'emit']);
  });

  it('exclude - a deny-list hides names from the default set', () => {
    const server = new Server({ logger: silentLogger });
    server.register('Impl', new Impl(), { exclude: ['Inherited', 'ownArrow'] });
    expect([...(server.registered()[0]?.methods.keys() ?? [])].sort()).toEqual(['Overridden', 'Own']);
  });

  it.each([
    [{ methods: ['Nope'] }, /methods of service "Impl" lists "Nope", which is not a method/],
    [{ methods: ['Getter'] }, /lists "Getter", which is not a method/],
    [{ exclude: ['_private'] }, /exclude of service "Impl" lists "_private", which is not an exposed method/],
    [{ methods: 'Own' }, /methods of service "Impl" must be an array of method names, got "Own"/],
    [{ exclude: [3] }, /exclude of service "Impl" must be an array of method names/],
    [{ methods: ['Own'], exclude: ['Own'] }, /give methods or exclude for service "Impl", not both/],
    [{ exclude: ['Own', 'Inherited', 'Overridden', 'ownArrow'] }, /has no methods to expose/],
    [
      { methods: ['Own'], protobuf: { Inherited: {} } },
      /protobuf types given for "Impl.Inherited", which is not an exposed method/,
    ],
  ])('bad methods/exclude %j - RangeError naming it, and nothing registered', (options, message) => {
    const server = new Server({ logger: silentLogger });
    expect(() => server.register('Impl', new Impl(), options as never)).toThrow(message);
    expect(server.registered()).toEqual([]);
  });
});
