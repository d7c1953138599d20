import { X509Certificate } from 'node:crypto';
import { MeshidError } from '../common/errors';
import type { LeafMinting, LeafRequest, MintedLeaf } from '../identity/leaf-minter';
import { generateKey, type KeyType } from '../identity/key-type';
import { keyObjectSigner } from '../identity/signer';
import type { LeafSigningUpstream } from '../upstream/upstream-authority';
import { certificateRequest } from './certificate-request';
import type { ServerConnection } from './server-connection';
import { serverRootsUpstream } from './server-roots';
import type { ServerSync } from './server-sync';
import { call, spiffeIdString } from './spire-api';
import { spireCallProblem } from './spire-errors';

export interface ServerSignedOptions {
  readonly connection: ServerConnection;
  readonly sync: ServerSync;
  readonly keyType: KeyType;
  readonly close: () => Promise<void>;
}

/**
 * `mode: server-signed`, spire-agent's model for servers that allow no downstream CA: every
 * X509-SVID is signed by the server (SVID/BatchNewX509SVID, by registration entry ID) for a key
 * made on the node, and rotated by the SVID store at half its lifetime like any other. Only
 * entries registered on the server can be signed; the TTL is the entry's (or the server's
 * default_x509_svid_ttl), not `svid.ttl`.
 */
export function serverSignedUpstream(options: ServerSignedOptions): LeafSigningUpstream {
  const { sync } = options;
  return Object.assign(serverRootsUpstream(sync, options.close), {
    leafMinter: serverMinter(options),
    // The node cannot see the server CA's own notAfter; the latest root's bounds it.
    signingNotAfterMs: () => Math.max(...sync.currentRoots.map((der) => Date.parse(new X509Certificate(der).validTo))),
  });
}

function serverMinter({ connection, sync, keyType }: ServerSignedOptions): LeafMinting {
  return {
    async mint(request: LeafRequest): Promise<MintedLeaf> {
      const spiffeId = request.spiffeId.toString();
      const entry = sync.currentEntries.find((candidate) => !candidate.downstream && spiffeIdString(candidate.spiffe_id) === spiffeId);
      if (!entry) throw new MeshidError('UPSTREAM', `upstream(spire): ${spiffeId} is not registered on the server for this node; in mode server-signed only server entries can be signed`);
      const key = await generateKey(keyType);
      const csr = await certificateRequest(keyObjectSigner(key.privateKey));
      let response;
      try {
        response = await call(connection.api.svid, connection.api.svid.BatchNewX509SVID, { params: [{ entry_id: entry.id, csr }] });
      } catch (error) {
        throw new MeshidError('UPSTREAM', `upstream(spire): BatchNewX509SVID for ${spiffeId} failed: ${spireCallProblem(error)}`);
      }
      const result = response.results[0];
      const [leaf, ...issuerChainDer] = result?.svid?.cert_chain ?? [];
      if (!leaf || (result?.status && result.status.code !== 0)) throw new MeshidError('UPSTREAM', `upstream(spire): the server refused to sign ${spiffeId}: ${result?.status?.message ?? 'no result'}`);
      const certificate = new X509Certificate(leaf);
      return {
        certificateDer: leaf,
        issuerChainDer,
        privateKeyPkcs8Der: key.privateKeyPkcs8Der,
        serialHex: certificate.serialNumber.toLowerCase(),
        notBefore: new Date(certificate.validFrom),
        notAfter: new Date(certificate.validTo),
      };
    },
  };
}
