import { MeshidError } from '../common/errors';
import type { StoreChange } from '../rotation/svid-store';
import { SECRET_TYPE_URL } from './messages';
import { peerMatchersKey } from '../entries/allowed-peers';
import { quoteName, type SecretSource } from './secret-names';

/**
 * SDS streams carry one resource type. An empty type_url is accepted: it is the proto default,
 * and only the type this service serves can be meant.
 */
export function requireSecretTypeUrl(typeUrl: string): void {
  if (typeUrl !== '' && typeUrl !== SECRET_TYPE_URL) {
    throw new MeshidError('INVALID_REQUEST', `unsupported type_url ${quoteName(typeUrl)}; this service serves ${SECRET_TYPE_URL}`);
  }
}

/** Whether a store change alters what `source` renders to. */
export function sourceAffectedBy(source: SecretSource, change: StoreChange): boolean {
  return change.kind === 'bundle' ? source.kind === 'bundle' : source.kind === 'svid' && source.entry.spiffeId === change.spiffeId;
}

/** Whether two resolutions of one name serve the same thing (undefined: does not exist). */
export function sameSource(a: SecretSource | undefined, b: SecretSource | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'svid') return b.kind === 'svid' && a.entry.spiffeId === b.entry.spiffeId;
  return b.kind === 'bundle' && a.scope === b.scope && (a.federated ?? []).join() === (b.federated ?? []).join() && peerMatchersKey(a.peers) === peerMatchersKey(b.peers);
}
