// A bidirectional stream: a chat room. Each participant's call sends its lines as an input
// stream and receives, as its reply stream, every line said in the room (the room replays its
// history to a newcomer). The server merges the lines of all participants into one subject; a
// participant that leaves (unsubscribes) stops both directions of its call.
//   npx tsx examples/streaming/chat.ts --lines 3
import { map, Observable, ReplaySubject, range, take, toArray } from 'rxjs';
import { Client, SerializeType, Server } from '../../lib/index.js';
import { defineCommand, integerFlag, readCommandLine } from '../lib/cli.js';

const COMMAND = defineCommand({
  name: 'streaming/chat',
  run: 'npx tsx examples/streaming/chat.ts',
  summary: [
    'Serves Chat.Join on a loopback port; alice and bob join, each says LINES lines, and each',
    'prints what it heard in the room; exits 1 if someone missed a line.',
  ].join('\n'),
  flags: {
    lines: {
      type: 'string',
      value: 'N',
      default: '3',
      description: 'lines each participant says, 1 to 1000',
    },
  },
  examples: ['npx tsx examples/streaming/chat.ts --lines 5'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  lines: integerFlag('--lines', flags.lines, 1, 1_000),
}));

interface Line {
  readonly from: string;
  readonly text: string;
}

class Chat {
  /** The room: what was said, replayed to a newcomer (the last 1,000 lines). */
  private readonly room = new ReplaySubject<Line>(1_000);

  /** Says the caller's lines in the room, and streams back every line said there. */
  Join(said: Observable<Line>): Observable<Line> {
    return new Observable<Line>((subscriber) => {
      const heard = this.room.subscribe(subscriber);
      const speaking = said.subscribe({ next: (line) => this.room.next(line) });
      return () => {
        speaking.unsubscribe();
        heard.unsubscribe();
      };
    });
  }
}

if (options !== undefined) {
  const server = new Server();
  server.register('Chat', new Chat());
  const address = await server.listen('tcp@127.0.0.1:0');
  console.log(`chat room on ${address}`);
  const client = new Client(address, { serializeType: SerializeType.JSON });
  const everyone = ['alice', 'bob'];
  const total = everyone.length * options.lines;
  const participant = (name: string): Observable<Line> => {
    const said = range(1, options.lines).pipe(map((n) => ({ from: name, text: `line ${n}` })));
    // Leaving once every line was heard: unsubscribing ends both directions of the call.
    return client.stream$<Line>('Chat', 'Join', said).pipe(take(total));
  };
  const heard = await Promise.all(
    everyone.map(
      (name) =>
        new Promise<Line[]>((resolve, reject) =>
          participant(name).pipe(toArray()).subscribe({ next: resolve, error: reject }),
        ),
    ),
  );
  let missed = false;
  for (const [index, name] of everyone.entries()) {
    const lines = heard[index] ?? [];
    const described = [...lines].map((line) => `${line.from}: ${line.text}`).sort();
    console.log(`${name} heard ${lines.length} lines: ${described.join(', ')}`);
    if (lines.length !== total) missed = true;
  }
  await client.close();
  await server.shutdown({ graceMs: 1_000 });
  if (missed) {
    console.log('FAILED: someone missed a line');
    process.exitCode = 1;
  } else console.log(`ok: each of ${everyone.length} participants heard all ${total} lines`);
}
