import type { Logger } from 'pino';
import pino from 'pino';
import { JwtAuthority } from '../jwt/jwt-authority';
import { NodeCa } from '../rotation/node-ca';
import { systemClock, type Clock } from '../rotation/clock';
import { SvidStore } from '../rotation/svid-store';
import { sdsService } from '../sds/sds-service';
import { loadUpstream } from '../upstream/load-upstream';
import { UnixAttestor } from '../workload/attestors/unix-attestor';
import { StaticEntrySource } from '../workload/entries';
import { PeerRegistry } from '../workload/peer-identity';
import { SocketListener } from '../workload/socket-listener';
import { workloadApiService } from '../workload/workload-api/workload-api-service';
import { WorkloadResolver } from '../workload/workload-resolver';
import type { AgentConfig } from './config/agent-config';
import { createGrpcServer } from './grpc-server';

export interface AgentDependencies {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Root of the proc filesystem; tests may point attestation at fixtures. */
  readonly procRoot?: string;
  readonly random?: () => number;
}

export interface RunningAgent {
  readonly socketPath: string;
  readonly trustDomain: string;
  stop(): Promise<void>;
}

/**
 * The composition root: upstream → node CA → SVID store → Workload API + SDS on one socket.
 * Everything that can fail at start (upstream files, socket in use) fails before anything serves.
 */
export async function startAgent(config: AgentConfig, deps: AgentDependencies = {}): Promise<RunningAgent> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? pino({ level: 'silent' });
  const procRoot = deps.procRoot ?? '/proc';

  const upstream = await loadUpstream(config, new Date(clock.now()));
  const ca = new NodeCa({ upstream, trustDomain: config.trustDomain, caTtlMs: config.ca.ttlMs, leafKeyType: config.svid.keyType, clock, logger, random: deps.random });
  await ca.start();
  const store = new SvidStore({ ca, svidTtlMs: config.svid.ttlMs, clock, logger, random: deps.random });
  const jwt = new JwtAuthority({ trustDomain: config.trustDomain, algorithm: config.jwt.algorithm, jwtTtlMs: config.jwt.ttlMs, keyTtlMs: config.jwt.keyTtlMs, clock, logger, random: deps.random });
  try {
    await jwt.start();
  } catch (error) {
    ca.stop();
    store.stop();
    throw error;
  }

  const peers = new PeerRegistry();
  const resolver = new WorkloadResolver({ peers, attestors: [new UnixAttestor({ procRoot })], entries: new StaticEntrySource(config.entries), procRoot, logger });
  const { server, injector } = createGrpcServer({
    workloadApi: workloadApiService({ resolver, store, jwt, logger }),
    sds: sdsService({ resolver, store, trustDomain: config.trustDomain, logger }),
  });

  let listener: SocketListener;
  try {
    listener = await SocketListener.listen({ socketPath: config.socketPath, procRoot, peers, sink: injector, logger });
  } catch (error) {
    ca.stop();
    store.stop();
    jwt.stop();
    throw error;
  }
  logger.info({ socketPath: config.socketPath, trustDomain: config.trustDomain, upstream: upstream.name }, 'meshid agent serving');

  return {
    socketPath: config.socketPath,
    trustDomain: config.trustDomain,
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
