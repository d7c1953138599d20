import { readFile } from 'node:fs/promises';
import { MeshidError } from '../common/errors';
import type { NodeAttestor } from './node-attestor';

/**
 * Join-token node attestation: the payload is the token itself (spire pkg/agent/plugin/
 * nodeattestor/jointoken). The server accepts each token once and names the agent
 * `spiffe://<td>/spire/agent/join_token/<token>`.
 */
export function joinTokenAttestor(tokenFile: string): NodeAttestor {
  return {
    type: 'join_token',
    async attestationPayload() {
      let token: string;
      try {
        token = (await readFile(tokenFile, 'utf8')).trim();
      } catch (error) {
        throw new MeshidError('UPSTREAM', `upstream(spire): cannot read joinTokenFile ${tokenFile}: ${(error as Error).message}`);
      }
      if (token === '') throw new MeshidError('UPSTREAM', `upstream(spire): joinTokenFile ${tokenFile} is empty`);
      return Buffer.from(token, 'utf8');
    },
  };
}
