// The chaos suite: runs every scenario in sequence, each against a fresh server child started
// from dist/, prints one verdict line per scenario and a closing tally, and exits 1 when any
// scenario FAILs. `--quick` runs the bounded short form (CI), `--only <name>` one scenario.
//
//   npm run chaos                     # build, then the full suite
//   npm run chaos -- --quick          # build, then the short form (under ~3 minutes)
//   npm run chaos -- --only wedge     # build, then one scenario
import { auth } from './scenarios/auth.js';
import { callsNoRead } from './scenarios/calls-no-read.js';
import { connFlood } from './scenarios/conn-flood.js';
import { gateway } from './scenarios/gateway.js';
import { gatewayStreams } from './scenarios/gateway-streams.js';
import { gzipAmplification } from './scenarios/gzip-amplification.js';
import { heartbeatNoRead } from './scenarios/heartbeat-no-read.js';
import { hostileHandlers } from './scenarios/hostile-handlers.js';
import { idleFlood } from './scenarios/idle-flood.js';
import { inheritedMethods } from './scenarios/inherited-methods.js';
import { malformed } from './scenarios/malformed.js';
import { metadataFlood } from './scenarios/metadata-flood.js';
import { metricsEndpoint } from './scenarios/metrics-endpoint.js';
import { partialFrames } from './scenarios/partial-frames.js';
import { pushNoRead } from './scenarios/push-no-read.js';
import { slowloris } from './scenarios/slowloris.js';
import { streamAttacks } from './scenarios/stream-attacks.js';
import { wedge } from './scenarios/wedge.js';
import { xclientFailover } from './scenarios/xclient-failover.js';
import { runScenario, type Scenario } from './support/scenario.js';
import { seconds } from './support/verdict.js';

const SCENARIOS: readonly Scenario[] = [
  slowloris,
  idleFlood,
  partialFrames,
  heartbeatNoRead,
  callsNoRead,
  pushNoRead,
  malformed,
  gzipAmplification,
  metadataFlood,
  hostileHandlers,
  auth,
  wedge,
  inheritedMethods,
  xclientFailover,
  connFlood,
  streamAttacks,
  gateway,
  gatewayStreams,
  metricsEndpoint,
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const only = onlyAt === -1 ? undefined : args[onlyAt + 1];
const unknown = args.filter(
  (arg, i) => arg !== '--quick' && arg !== '--only' && !(onlyAt !== -1 && i === onlyAt + 1),
);
if (unknown.length > 0 || (onlyAt !== -1 && !SCENARIOS.some((s) => s.name === only))) {
  console.error(
    `usage: tsx chaos/run.ts [--quick] [--only <name>]\nscenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`,
  );
  process.exit(2);
}

const chosen = SCENARIOS.filter((scenario) => only === undefined || scenario.name === only);
console.log(
  `chaos suite (${quick ? 'quick' : 'full'}): ${chosen.length} scenario(s), Node ${process.version}`,
);
const started = performance.now();
let passed = 0;
for (const scenario of chosen) {
  const began = performance.now();
  const result = await runScenario(scenario, { quick });
  console.log(`${result.line} [${seconds(performance.now() - began)}]`);
  if (result.ok) passed += 1;
}
const failed = chosen.length - passed;
console.log(`chaos (${seconds(performance.now() - started)}): ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
