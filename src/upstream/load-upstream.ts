import path from 'node:path';
import type { Logger } from 'pino';
import { MeshidError } from '../errors';
import { parseCertificate } from './ca-checks';
import { loadDiskUpstream } from './disk-upstream';
import { loadPkcs11Upstream } from './pkcs11-upstream';
import { readRetiredRoot, settleInterruptedRotation } from './self-signed-rotation';
import { loadSelfSignedUpstream } from './self-signed-upstream';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamOptions } from './upstream-options';

/**
 * Exactly one upstream per agent, chosen by config. Failures are MeshidError('UPSTREAM') whose
 * message names the upstream: `upstream(disk): …`.
 */
export function loadUpstream(config: UpstreamOptions, now: Date, logger?: Logger): Promise<UpstreamAuthority> {
  switch (config.upstream.type) {
    case 'self-signed':
      return loadSelfSigned(config, now, logger);
    case 'disk':
      return loadDiskUpstream(config.upstream, now);
    case 'pkcs11':
      return loadPkcs11Upstream(config.upstream, now);
    case 'spire':
      // Joining a server also yields entries and a background sync: startAgent calls joinSpireServer.
      throw new MeshidError('INTERNAL', 'upstream(spire): joined by startAgent (src/upstream/spire/load-spire-upstream.ts), not loaded here');
  }
}

/**
 * The self-signed root, after settling a root rotation a restart interrupted. A root retired by
 * a rotation that had switched but not yet dropped it stays in the bundle (leaves under it may
 * still be valid); the agent drops it once they have expired.
 */
async function loadSelfSigned(config: UpstreamOptions, now: Date, logger: Logger | undefined): Promise<UpstreamAuthority> {
  const settled = await settleInterruptedRotation(config.dataDir);
  if (settled !== undefined) logger?.warn({ dataDir: config.dataDir }, `root rotation: ${settled}`);
  const upstream = await loadSelfSignedUpstream({ dataDir: config.dataDir, trustDomain: config.trustDomain, dataDirMode: dataDirMode(config) }, now);
  const retired = await readRetiredRoot(config.dataDir);
  const certificate = retired && parseCertificate(retired);
  if (!retired || !certificate || Date.parse(certificate.validTo) <= now.getTime()) return upstream;
  return { ...upstream, rootsDer: [...upstream.rootsDer, retired], retiredRootsDer: [retired] };
}

/**
 * dataDir holds the root key, so it is created 0700, except when the Workload API socket lives
 * inside it (the embedded defaults put both in ./.meshid): then 0711, so workloads of other
 * users can reach the socket by name, while still no one else can list the directory (the key
 * file itself is 0600 either way).
 */
export function dataDirMode(config: UpstreamOptions): number {
  const relative = path.relative(config.dataDir, config.socketPath);
  const socketInside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return socketInside ? 0o711 : 0o700;
}
