import path from 'node:path';
import pino from 'pino';
import { createGrpcServer } from '../../src/agent/grpc-server';
import { JwtAuthority } from '../../src/jwt/jwt-authority';
import { systemClock } from '../../src/common/clock';
import { NodeCa } from '../../src/rotation/node-ca';
import { SvidStore } from '../../src/rotation/svid-store';
import { sdsService } from '../../src/sds/sds-service';
import { loadSelfSignedUpstream } from '../../src/upstream/self-signed-upstream';
import type { WorkloadAttestor } from '../../src/attestation/attestors/workload-attestor';
import { StaticEntrySource, type RegistrationEntry } from '../../src/entries/entries';
import { PeerRegistry } from '../../src/attestation/peer-identity';
import { SocketListener } from '../../src/serving/socket-listener';
import { workloadApiService } from '../../src/workload-api/workload-api-service';
import { WorkloadResolver } from '../../src/attestation/workload-resolver';
import { makeTempDir } from './temp-dir';

export interface AttestingServer {
  readonly socketPath: string;
  stop(): Promise<void>;
}

/**
 * The agent's serving stack (socket listener, grpc-js, Workload API, SDS, real CA) as startAgent
 * wires it, but with the attestors a test chooses, so a test can act while attestation runs.
 */
export async function startAttestingServer(attestors: WorkloadAttestor[], entries: RegistrationEntry[]): Promise<AttestingServer> {
  const dir = await makeTempDir('meshid-attesting-');
  const socketPath = path.join(dir, 'agent.sock');
  const logger = pino({ level: 'silent' });
  const upstream = await loadSelfSignedUpstream({ dataDir: path.join(dir, 'data'), trustDomain: 'example.org' }, new Date());
  const ca = new NodeCa({ upstream, trustDomain: 'example.org', caTtlMs: 3_600_000, leafKeyType: 'ec-p256', clock: systemClock, logger });
  await ca.start();
  const store = new SvidStore({ ca, svidTtlMs: 600_000, clock: systemClock, logger });
  const jwt = new JwtAuthority({ trustDomain: 'example.org', algorithm: 'ES256', jwtTtlMs: 300_000, keyTtlMs: 86_400_000, clock: systemClock, logger });
  await jwt.start();
  const peers = new PeerRegistry();
  const resolver = new WorkloadResolver({ peers, attestors, entries: new StaticEntrySource(entries), procRoot: '/proc', logger });
  const { server, injector } = createGrpcServer({
    workloadApi: workloadApiService({ resolver, store, jwt, logger }),
    sds: sdsService({ resolver, store, trustDomain: 'example.org', logger }),
  });
  const listener = await SocketListener.listen({ socketPath, procRoot: '/proc', peers, sink: injector, logger });
  return {
    socketPath,
    async stop() {
      await listener.close();
      injector.destroy();
      server.forceShutdown();
      ca.stop();
      store.stop();
      jwt.stop();
    },
  };
}
