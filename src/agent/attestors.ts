import type { Logger } from 'pino';
import type { Clock } from '../common/clock';
import { DockerAttestor } from '../attestation/attestors/docker-attestor';
import { K8sAttestor } from '../attestation/attestors/k8s-attestor';
import { UnixAttestor } from '../attestation/attestors/unix-attestor';
import type { WorkloadAttestor } from '../attestation/attestors/workload-attestor';
import type { EntrySource } from '../entries/entries';
import type { AgentConfig } from './config/agent-config';

/** The attestors the config enables; unix always runs (it needs nothing but /proc). */
export function createAttestors(config: AgentConfig, procRoot: string, clock: Clock, logger: Logger, entries: EntrySource): WorkloadAttestor[] {
  const { unix, k8s, docker } = config.attestors;
  const attestors: WorkloadAttestor[] = [
    new UnixAttestor({ procRoot, logger, hashBinaries: unix.hashBinaries, maxHashBytes: unix.maxHashBytes, sha256Wanted: sha256Wanted(entries) }),
  ];
  if (k8s) attestors.push(new K8sAttestor({ procRoot, clock, ...k8s }));
  if (docker) attestors.push(new DockerAttestor({ procRoot, ...docker }));
  return attestors;
}

/** Recomputed only when the entries list object changes (a reload), not per attestation. */
function sha256Wanted(entries: EntrySource): () => boolean {
  let seen: readonly unknown[] | undefined;
  let wanted = false;
  return () => {
    const current = entries.current();
    if (current !== seen) {
      seen = current;
      wanted = current.some((entry) => entry.selectors.some((selector) => selector.startsWith('unix:sha256:')));
    }
    return wanted;
  };
}
