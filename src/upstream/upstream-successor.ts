import { MeshidError } from '../errors';
import { loadDiskUpstream } from './disk-upstream';
import { loadPkcs11Upstream } from './pkcs11-upstream';
import { prepareSelfSignedSuccessor } from './self-signed-rotation';
import type { UpstreamAuthority } from './upstream-authority';
import type { UpstreamOptions } from './upstream-options';

/** A new upstream authority, ready to take over, with the hooks that persist the handover. */
export interface UpstreamSuccessor {
  readonly upstream: UpstreamAuthority;
  /** The new upstream now signs: make it the one a restart loads. */
  onSwitched?(): Promise<void>;
  /** The old roots left the bundles: forget them. */
  onCompleted?(): Promise<void>;
  /** The rotation will not happen: remove whatever was staged. */
  discard?(): Promise<void>;
}

/**
 * The upstream to rotate to. Self-signed: a new root, made now. Disk: certFile/keyFile/bundleFile
 * read again with every start-time check. PKCS#11: certFile read again and the key under the same
 * label opened again (the operator may have replaced it in the HSM). A rejected successor throws
 * MeshidError('UPSTREAM') naming the problem, and the current upstream stays.
 */
export function prepareSuccessor(config: UpstreamOptions, now: Date, trigger: 'admin' | 'files-changed'): Promise<UpstreamSuccessor> {
  const upstream = config.upstream;
  switch (upstream.type) {
    case 'self-signed':
      if (trigger !== 'admin') throw new MeshidError('UPSTREAM', 'upstream(self-signed): rotates only on request (meshid ca rotate)');
      return prepareSelfSignedSuccessor(config.dataDir, config.trustDomain, now);
    case 'disk':
      return loadDiskUpstream(upstream, now).then((loaded) => ({ upstream: loaded }));
    case 'pkcs11':
      return loadPkcs11Upstream(upstream, now).then((loaded) => ({ upstream: loaded }));
    case 'spire':
      // spire-server rotates its own CA make-before-break; the node follows its bundle (agent.ts).
      return Promise.reject(new MeshidError('UPSTREAM', 'upstream(spire): the SPIRE server rotates its CA itself (spire-server localauthority x509 prepare/activate); meshid follows its bundle'));
  }
}
