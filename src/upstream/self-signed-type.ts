import { MeshidError } from '../common/errors';
import { parseCertificate } from './ca-checks';
import { prepareSelfSignedSuccessor, readRetiredRoot, settleInterruptedRotation } from './self-signed-rotation';
import { loadSelfSignedUpstream } from './self-signed-upstream';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamContext, UpstreamType } from './upstream-type';

export interface SelfSignedUpstreamConfig {
  readonly type: 'self-signed';
}

/**
 * The self-signed root kept in dataDir. It has no files an operator edits, so it rotates only on
 * request (`meshid ca rotate`), to a new root made then.
 */
export const selfSignedUpstreamType: UpstreamType<SelfSignedUpstreamConfig> = {
  load: (_config, context, now) => loadSettled(context, now),
  prepareSuccessor(_config, context, now, trigger) {
    if (trigger !== 'admin') return Promise.reject(new MeshidError('UPSTREAM', 'upstream(self-signed): rotates only on request (meshid ca rotate)'));
    return prepareSelfSignedSuccessor(context.dataDir, context.trustDomain, now);
  },
  watchedFiles: () => [],
};

/**
 * The root, after settling a root rotation a restart interrupted. A root retired by a rotation
 * that had switched but not yet dropped it stays in the bundle (leaves under it may still be
 * valid); the agent drops it once they have expired.
 */
async function loadSettled(context: UpstreamContext, now: Date): Promise<UpstreamAuthority> {
  const settled = await settleInterruptedRotation(context.dataDir);
  if (settled !== undefined) context.logger?.warn({ dataDir: context.dataDir }, `root rotation: ${settled}`);
  const upstream = await loadSelfSignedUpstream(context, now);
  const retired = await readRetiredRoot(context.dataDir);
  const certificate = retired && parseCertificate(retired);
  if (!retired || !certificate || Date.parse(certificate.validTo) <= now.getTime()) return upstream;
  return { ...upstream, rootsDer: [...upstream.rootsDer, retired], retiredRootsDer: [retired] };
}
