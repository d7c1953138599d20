import type { X509Certificate } from 'node:crypto';
import { MeshidError } from '../common/errors';
import { caProblem, parseCertificate } from './ca-checks';
import { recordedLeafTtlMs, updateLeafTtls } from './root-leaf-ttl';
import { prepareSelfSignedSuccessor, readRetiredRoot, RETIRED_CERT_FILE, settleInterruptedRotation } from './self-signed-rotation';
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
    return prepareSelfSignedSuccessor(context.dataDir, context.trustDomain, now, context.leafTtlMs);
  },
  watchedFiles: () => [],
};

/**
 * The root, after settling a root rotation a restart interrupted. A root retired by a rotation
 * that had switched but not yet dropped it stays in the bundle (leaves under it may still be
 * valid) until the longest leaf lifetime any agent issued under it has passed since now: every
 * such leaf predates this start, whatever `svid.ttl` was then.
 */
async function loadSettled(context: UpstreamContext, now: Date): Promise<UpstreamAuthority> {
  const settled = await settleInterruptedRotation(context.dataDir);
  if (settled !== undefined) context.logger?.warn({ dataDir: context.dataDir }, `root rotation: ${settled}`);
  const upstream = await loadSelfSignedUpstream(context, now);
  const retiredDer = await readRetiredRoot(context.dataDir);
  const certificate = retiredDer && parseCertificate(retiredDer);
  if (retiredDer && certificate) {
    // Only ever a copy of a root this agent served (strict modes check who wrote it): anything else is refused, not trusted.
    const problem = !certificate.verify(certificate.publicKey) || certificate.subject !== certificate.issuer ? 'is not self-signed' : caProblem(retiredDer, certificate, 1) ?? (spiffeUris(certificate).includes(`spiffe://${context.trustDomain}`) ? undefined : `is not a root of trust domain ${context.trustDomain}`);
    if (problem) throw new MeshidError('UPSTREAM', `upstream(self-signed): ${RETIRED_CERT_FILE} in ${context.dataDir} ${problem}; meshid did not write it: move it away`);
  }
  const retired = retiredDer && certificate && Date.parse(certificate.validTo) > now.getTime() ? retiredDer : undefined;
  const recordedTtlMs = retired && (await recordedLeafTtlMs(context.dataDir, retired));
  // Before anything is signed under the active root: a later restart must know this lifetime.
  if (context.leafTtlMs !== undefined) await updateLeafTtls(context.dataDir, { raise: [upstream.signingCertificateDer], leafTtlMs: context.leafTtlMs, keep: retired ? [retired] : [] });
  if (!retired) return upstream;
  if (recordedTtlMs === undefined) context.logger?.warn({ dataDir: context.dataDir }, 'root rotation: no leaf lifetime is recorded for the retired root (written by an older meshid); it is kept for one svid.ttl');
  const keepForMs = Math.max(recordedTtlMs ?? 0, context.leafTtlMs ?? 0);
  return { ...upstream, rootsDer: [...upstream.rootsDer, retired], retiredRootsDer: [retired], ...(keepForMs > 0 ? { retiredLeavesExpireAtMs: now.getTime() + keepForMs } : {}) };
}

function spiffeUris(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '').split(', ').filter((name) => name.startsWith('URI:')).map((name) => name.slice(4));
}
