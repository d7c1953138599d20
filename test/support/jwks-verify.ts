import assert from 'node:assert/strict';
import { loadJose, type JWK, type JWTPayload } from '../../src/jwt/jose';

export interface VerifiedToken {
  readonly payload: JWTPayload;
  readonly header: { alg?: string; kid?: string; typ?: string };
}

/**
 * Verifies a JWT with jose against a JWKS document as the Workload API serves it, the way an
 * independent relying party would. jose only picks keys whose `use` is absent or "sig"; the
 * SPIFFE bundle marks them "jwt-svid", so a SPIFFE-aware relying party maps that first.
 */
export async function verifyWithJwks(token: string, jwksDocument: Buffer | string, audience: string, now: Date): Promise<VerifiedToken> {
  const jose = await loadJose();
  const document = JSON.parse(jwksDocument.toString()) as { keys: JWK[] };
  for (const key of document.keys) assert.equal(key.use, 'jwt-svid', 'every bundle key is marked for JWT-SVIDs');
  const keySet = jose.createLocalJWKSet({ keys: document.keys.map(({ use: _use, ...key }) => key) });
  const { payload, protectedHeader } = await jose.jwtVerify(token, keySet, { audience, currentDate: now });
  return { payload, header: protectedHeader };
}

/** The kids in a JWKS document, in order. */
export function jwksKids(jwksDocument: Buffer | string): string[] {
  return (JSON.parse(jwksDocument.toString()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
}
