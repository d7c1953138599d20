import { MeshidError } from '../common/errors';
import { generateKey } from '../identity/key-type';
import { derToPem } from '../identity/pem';
import { keyObjectSigner } from '../identity/signer';
import type { IntermediateRequest, IssuedIntermediate, IssuingUpstream } from '../upstream/upstream-authority';
import { certificateRequest } from './certificate-request';
import { ServerConnection } from './server-connection';
import { serverRootsUpstream } from './server-roots';
import type { ServerSync } from './server-sync';
import { call, spiffeIdString, type EntryMessage } from './spire-api';
import { spireCallProblem } from './spire-errors';

export interface DownstreamOptions {
  readonly serverAddress: string;
  readonly trustDomain: string;
  readonly connection: ServerConnection;
  readonly sync: ServerSync;
  readonly close: () => Promise<void>;
}

/**
 * `mode: downstream`: the node intermediate is signed by spire-server (SVID/NewDownstreamX509CA)
 * and meshid mints every leaf under it locally, so the server signs one CA per node per
 * rotation instead of one SVID per workload.
 *
 * The server authorizes NewDownstreamX509CA for callers whose X509-SVID ID is the SPIFFE ID of an
 * entry with `downstream: true` (spire pkg/server/api/middleware/authorization_opa.go,
 * isDownstreamViaEntries), not for the agent SVID itself. So the operator registers one such
 * entry under the node's agent ID; meshid gets an SVID for it (BatchNewX509SVID, as spire-agent
 * would for a nested spire-server workload) and calls NewDownstreamX509CA with it.
 */
export function downstreamUpstream(options: DownstreamOptions): IssuingUpstream {
  return Object.assign(serverRootsUpstream(options.sync, options.close), {
    issueIntermediate: (request: IntermediateRequest) => issue(options, request),
  });
}

async function issue(options: DownstreamOptions, request: IntermediateRequest): Promise<IssuedIntermediate> {
  const entry = downstreamEntry(options.sync.currentEntries, options.trustDomain);
  const caller = await entrySvid(options.connection, entry);
  const downstream = new ServerConnection(options.serverAddress, options.trustDomain, options.sync.currentRoots);
  downstream.setIdentity(caller);
  try {
    const csr = await certificateRequest(request.signer);
    const response = await call(downstream.api.svid, downstream.api.svid.NewDownstreamX509CA, { csr, preferred_ttl: Math.ceil(request.preferredTtlMs / 1000) });
    const [certificateDer, ...upstreamIntermediatesDer] = response.ca_cert_chain;
    if (!certificateDer) throw new MeshidError('UPSTREAM', 'upstream(spire): NewDownstreamX509CA returned no certificate');
    return { certificateDer, upstreamIntermediatesDer, rootsDer: response.x509_authorities };
  } catch (error) {
    if (error instanceof MeshidError) throw error;
    throw new MeshidError('UPSTREAM', `upstream(spire): NewDownstreamX509CA as ${spiffeIdString(entry.spiffe_id)} failed: ${spireCallProblem(error)}`);
  } finally {
    downstream.close();
  }
}

function downstreamEntry(entries: readonly EntryMessage[], trustDomain: string): EntryMessage {
  const entry = entries.find((candidate) => candidate.downstream);
  if (!entry) {
    throw new MeshidError(
      'UPSTREAM',
      `upstream(spire): mode downstream needs a downstream entry for this node; register one with \`spire-server entry create -parentID <this agent's ID> -spiffeID spiffe://${trustDomain}/meshid/<node> -selector meshid:node -downstream\``,
    );
  }
  return entry;
}

/** An X509-SVID for the downstream entry, signed by the server for a fresh key. */
async function entrySvid(connection: ServerConnection, entry: EntryMessage): Promise<{ chainDer: Buffer[]; privateKeyPem: string }> {
  const key = await generateKey('ec-p256');
  const csr = await certificateRequest(keyObjectSigner(key.privateKey));
  let response;
  try {
    response = await call(connection.api.svid, connection.api.svid.BatchNewX509SVID, { params: [{ entry_id: entry.id, csr }] });
  } catch (error) {
    throw new MeshidError('UPSTREAM', `upstream(spire): BatchNewX509SVID for the downstream entry failed: ${spireCallProblem(error)}`);
  }
  const result = response.results[0];
  if (!result?.svid || (result.status && result.status.code !== 0)) {
    throw new MeshidError('UPSTREAM', `upstream(spire): the server refused an SVID for the downstream entry ${entry.id}: ${result?.status?.message ?? 'no result'}`);
  }
  return { chainDer: result.svid.cert_chain, privateKeyPem: derToPem('PRIVATE KEY', key.privateKeyPkcs8Der) };
}
