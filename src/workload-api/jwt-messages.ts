/**
 * The JWT half of the Workload API (proto/workload.proto), generated into src/generated/
 * (`npm run gen:proto`). As in messages.ts, every field is set on what is sent, so the complete
 * (`__Output`) types serve the handlers and the CLI alike.
 */
export type { JWTSVIDRequest__Output as JwtSvidRequest } from '../generated/JWTSVIDRequest';
export type { JWTSVID__Output as JwtSvidMessage } from '../generated/JWTSVID';
export type { JWTSVIDResponse__Output as JwtSvidResponse } from '../generated/JWTSVIDResponse';
/** `bundles` is keyed by trust domain ID (`spiffe://example.org`); each value a JWKS document, UTF-8 JSON. */
export type { JWTBundlesResponse__Output as JwtBundlesResponse } from '../generated/JWTBundlesResponse';
export type { ValidateJWTSVIDRequest__Output as ValidateJwtSvidRequest } from '../generated/ValidateJWTSVIDRequest';
export type { ValidateJWTSVIDResponse__Output as ValidateJwtSvidResponse } from '../generated/ValidateJWTSVIDResponse';
