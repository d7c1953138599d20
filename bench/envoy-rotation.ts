/**
 * Real Envoy 1.40 sidecars on meshid (the interop test's mesh: two client → server pairs, one
 * GRPC/DELTA_GRPC each way) under a steady request loop. Prints, per scenario, the requests sent
 * and failed, and the time from meshid issuing a new SVID (first listed by GET /debug/svids) to
 * each Envoy's admin /certs showing it, p50/p99/max over every rotation seen. Both sides are
 * polled every 50 ms, so a latency is good to about ±50 ms. Figures only; never a pass/fail.
 *
 *   npm run bench:envoy -- [--rotations 4] [--svid-ttl 20s]
 */
import { parseArgs } from 'node:util';
import { meshid } from '../test/support/meshid-cli';
import { eventually } from '../test/support/rotation-traffic';
import { removeTempDirs } from '../test/support/temp-dir';
import { CLIENT_ID, EnvoyMesh, SERVER_ID } from '../test/interop/support/envoy-mesh';
import { RequestLoop } from '../test/interop/support/request-loop';
import { SerialWatch } from '../test/interop/support/serial-watch';
import { percentile } from './support/stats';

const { values } = parseArgs({ options: { rotations: { type: 'string', default: '4' }, 'svid-ttl': { type: 'string', default: '20s' } } });
const rotations = Number(values.rotations);
/** Bounds against a broken run, not figures. */
const WAIT_MS = 300_000;

async function main(): Promise<void> {
  const mesh = await EnvoyMesh.start({ svidTtl: values['svid-ttl'] ?? '20s', rotationPropagationDelay: '2s' });
  const envoys = mesh.pairs.flatMap((pair) => [
    { envoy: pair.client, spiffeId: CLIENT_ID },
    { envoy: pair.server, spiffeId: SERVER_ID },
  ]);
  const watch = new SerialWatch(mesh, envoys);
  const loop = new RequestLoop(
    mesh.pairs.map((pair) => ({ label: pair.label, port: pair.clientPort })),
    'leaf rotations',
  );
  const phaseStarts: [string, number][] = [['leaf rotations', Date.now()]];
  const enter = (phase: string): void => {
    loop.enter(phase);
    phaseStarts.push([phase, Date.now()]);
  };
  try {
    await eventually(() => envoys.every(({ envoy }) => watch.serialsOf(envoy).length >= rotations + 1), `${rotations} rotations on every Envoy`, WAIT_MS);

    enter('root rotation');
    const rotate = await meshid(['ca', 'rotate', '--admin', mesh.adminAddress], { cwd: mesh.dir });
    if (rotate.code !== 0) throw new Error(`meshid ca rotate: ${rotate.stderr}`);
    await eventually(async () => (await mesh.adminJson<{ phase: string }>('/ca/rotation')).phase === 'idle', 'the root rotation to finish', WAIT_MS);

    enter('agent restart');
    const before = new Map(envoys.map(({ envoy }) => [envoy.name, watch.serialsOf(envoy).length]));
    await mesh.terminateAgent();
    await mesh.startAgent();
    // The SVID minted after the restart and one rotation after it.
    await eventually(() => envoys.every(({ envoy }) => watch.serialsOf(envoy).length >= (before.get(envoy.name) ?? 0) + 2), 'a rotation after the restart', WAIT_MS);
  } finally {
    await loop.stop();
    await watch.stop();
    await mesh.stop();
    await removeTempDirs();
  }

  console.log(`Envoy sidecars on meshid: ${envoys.length} Envoys (2 pairs), svid.ttl ${values['svid-ttl'] ?? '20s'}, one request per pair every 50 ms, a new mTLS connection each`);
  console.log('scenario            requests  failed');
  for (const [phase, count] of loop.phases) console.log(`${phase.padEnd(18)} ${String(count.sent).padStart(9)} ${String(count.failed).padStart(7)}`);
  for (const failure of loop.failures.slice(0, 5)) console.log(`  failed: ${failure}`);
  const ms = (value: number): string => `${Math.round(value)} ms`;
  const phaseAt = (time: number): string => phaseStarts.filter(([, start]) => start <= time).pop()?.[0] ?? 'leaf rotations';
  const all = watch.latencies();
  console.log('new SVID issued by meshid → shown by Envoy /certs (±50 ms polling)');
  for (const [phase] of [['all'], ...phaseStarts]) {
    const sample = all.filter((latency) => phase === 'all' || phaseAt(latency.issuedAt) === phase).map((latency) => latency.ms);
    if (sample.length === 0) continue;
    console.log(`  ${(phase ?? '').padEnd(16)} n=${String(sample.length).padStart(3)}  p50 ${ms(percentile(sample, 50))}  p99 ${ms(percentile(sample, 99))}  max ${ms(Math.max(...sample))}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
