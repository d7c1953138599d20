import { readFile } from 'node:fs/promises';
import { MeshidError } from '../common/errors';
import type { NodeAttestor } from './node-attestor';

/**
 * Kubernetes projected service-account token attestation: the payload is the JSON
 * `{"cluster": …, "token": …}` (spire pkg/common/plugin/k8s PSATAttestationData, sent by
 * pkg/agent/plugin/nodeattestor/k8spsat), with no challenge. The server validates the token with
 * the TokenReview API of the cluster it knows by that name, and names the agent
 * `spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node UID>`. The token is read at each
 * attestation: kubelet rotates it in place. Unlike join tokens, this can attest again whenever
 * the stored agent SVID has expired.
 */
export function k8sPsatAttestor(cluster: string, tokenFile: string): NodeAttestor {
  return {
    type: 'k8s_psat',
    async attestationPayload() {
      let token: string;
      try {
        token = (await readFile(tokenFile, 'utf8')).trim();
      } catch (error) {
        throw new MeshidError('UPSTREAM', `upstream(spire): cannot read the k8s_psat token ${tokenFile}: ${(error as Error).message}`);
      }
      if (token === '') throw new MeshidError('UPSTREAM', `upstream(spire): the k8s_psat token file ${tokenFile} is empty`);
      return Buffer.from(JSON.stringify({ cluster, token }), 'utf8');
    },
  };
}
